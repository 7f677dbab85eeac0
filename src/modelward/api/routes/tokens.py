"""Access tokens (admin scope) and who the caller is (``/whoami``, read scope)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from modelward.api.guard import ADMIN, GuardedRoute, reads_open
from modelward.api.schemas import TokenCreatedPublic, TokenIn, TokenPublic, WhoamiPublic
from modelward.ops.tokens import Principal, TokenInfo, TokenStore

router = APIRouter(tags=["access"], route_class=GuardedRoute)


def _store(request: Request) -> TokenStore:
    store: TokenStore = request.app.state.tokens
    return store


@router.get("/tokens", response_model=list[TokenPublic], openapi_extra=ADMIN)
async def list_tokens(request: Request) -> list[TokenPublic]:
    """Every token: name, scope, when it was made and its last four characters."""
    return [_public(t) for t in await asyncio.to_thread(_store(request).list)]


@router.post(
    "/tokens",
    response_model=TokenCreatedPublic,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=ADMIN,
)
async def create_token(body: TokenIn, request: Request) -> TokenCreatedPublic:
    """Make a named token; its text is in this answer only (stored as a hash)."""
    store = _store(request)
    token = await asyncio.to_thread(store.create, body.name, body.scope)
    made = next(t for t in await asyncio.to_thread(store.list) if t.name == body.name)
    return TokenCreatedPublic(**_public(made).model_dump(), token=token)


@router.delete("/tokens/{name}", response_model=TokenPublic, openapi_extra=ADMIN)
async def revoke_token(name: str, request: Request) -> TokenPublic:
    """Revoke a token: it is refused from the next request on."""
    return _public(await asyncio.to_thread(_store(request).revoke, name))


@router.get("/whoami", response_model=WhoamiPublic)
async def whoami(request: Request) -> WhoamiPublic:
    """The token's name and scope (null without a valid one), and whether reads are open,
    so a client can hide what the token cannot do."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return WhoamiPublic(
        name=principal.name if principal else None,
        scope=principal.scope if principal else None,
        authenticated=principal is not None,
        reads_open=reads_open(request),
    )


def _public(info: TokenInfo) -> TokenPublic:
    made = datetime.fromtimestamp(info.created_at, UTC) if info.created_at else None
    return TokenPublic(name=info.name, scope=info.scope, created_at=made, hint=info.hint)
