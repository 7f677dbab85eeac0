"""Bodies about operating the service: access tokens, who a request acts as, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ScopePublic = Literal["read", "operate", "admin"]


class TokenPublic(BaseModel):
    """A named token as listed: never its text or its hash."""

    name: str
    scope: ScopePublic
    created_at: datetime | None = Field(
        default=None, description="When it was made (none for the service's own token)."
    )
    hint: str = Field(description="The token's last four characters.")


class TokenIn(BaseModel):
    """A token to make."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Letters, digits, '.', '_' or '-'; 'service' is the service's own.",
    )
    scope: ScopePublic


class TokenCreatedPublic(TokenPublic):
    """A new token, with its text: shown this once, stored only as a hash."""

    token: str


class WhoamiPublic(BaseModel):
    """Who the request's token says it is, and what it may do."""

    name: str | None = Field(description="The token's name; null without a valid token.")
    scope: ScopePublic | None = Field(description="Its scope; null without a valid token.")
    authenticated: bool
    reads_open: bool = Field(
        description="Reads need no token (the service listens on loopback only)."
    )


class AuditEntryPublic(BaseModel):
    """One recorded mutation."""

    id: int
    at: datetime
    actor: str = Field(description="Token name, cli:<os user>, scheduler, automation, recovery.")
    action: str
    outcome: Literal["ok", "refused", "failed"]
    model_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="Secrets redacted.")
    token: str | None = Field(default=None, description="The name of the token used.")
    status: int | None = Field(default=None, description="The HTTP status answered.")
    error_code: str | None = None
    node: str | None = Field(
        default=None, description="The node that recorded it (null: before nodes were named)."
    )


class AuditPublic(BaseModel):
    """Audit records, newest first."""

    data: list[AuditEntryPublic]
    count: int
