"""``modelward token create|list|revoke`` and ``modelward audit``, and the audit records of
what the CLI changes in-process.

Tokens are files of this MODELWARD_HOME (``tokens.json``, hashes only), so the token
commands work with no service; a running one sees a change at its next request. ``audit``
asks the running service (it needs the admin token the CLI already uses), else reads the
database here. Whatever the CLI changes itself, with no service, is recorded here with the
actor ``cli:<os user>`` (``audited`` / ``audited_here``); what it asks a service to do is
recorded by the service, once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from modelward.api.schemas import AuditEntryPublic, AuditPublic
from modelward.cli.client import ServiceClient, cli_actor, read_token
from modelward.cli.discovery import find_service
from modelward.cli.options import JsonOpt, build_settings
from modelward.cli.output import console, err_console, fail, print_table
from modelward.cli.where import ask_service_or_here
from modelward.db import Database
from modelward.errors import ModelwardError
from modelward.ops.audit import AuditLog, Outcome
from modelward.ops.since import parse_since
from modelward.ops.tokens import SCOPES, TokenStore
from modelward.runtime import Runtime
from modelward.settings import Settings

token_app = typer.Typer(
    help="Access tokens for the service: read, operate or admin.", no_args_is_help=True
)
NameArg = Annotated[str, typer.Argument(help="The token's name.", show_default=False)]


def _token_settings() -> Settings:
    """Settings whose home holds the tokens: a running service registered here may keep
    its data in another home (the demo does), and its tokens are the ones that count."""
    settings = build_settings()
    try:
        info = find_service(settings.home)
    except ModelwardError:
        return settings
    home = info.served_home(settings.home)
    return settings if home == settings.home else settings.with_changes(home=home)


def _tokens(settings: Settings) -> TokenStore:
    """This home's tokens, with the service's own one when it is known here."""
    return TokenStore(settings.home, settings.api_token or read_token(settings.api_token_file))


@token_app.command("create")
def token_create(
    name: NameArg,
    scope: Annotated[
        str, typer.Option(help=f"What it may do: {', '.join(SCOPES)}.", show_default=True)
    ] = "read",
) -> None:
    """Make a token and print it (this once: only its hash is kept)."""
    try:
        settings = _token_settings()
        with audited_here(settings, "create-token", params={"name": name, "scope": scope}):
            token = _tokens(settings).create(name, scope)
    except ModelwardError as error:
        raise fail(error) from None
    err_console.print(
        f"token {name!r} ({scope}); shown this once, send it as 'Authorization: Bearer <token>':",
        highlight=False,
    )
    sys.stdout.write(token + "\n")


@token_app.command("list")
def token_list(as_json: JsonOpt = False) -> None:
    """Show every token: name, scope, when it was made, its last four characters."""
    try:
        found = _tokens(_token_settings()).list()
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        payload = [
            {"name": t.name, "scope": t.scope, "created_at": t.created_at or None, "hint": t.hint}
            for t in found
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title="tokens")
    for column in ("name", "scope", "created", "ends with"):
        table.add_column(column)
    for t in found:
        made = _when(t.created_at) if t.created_at else "(the service's own)"
        cells = (t.name, t.scope, made, f"…{t.hint}" if t.hint else "-")
        table.add_row(*(escape(c) for c in cells))  # names come from users: no markup
    print_table(table)


@token_app.command("revoke")
def token_revoke(name: NameArg) -> None:
    """Revoke a token: a running service refuses it from its next request."""
    try:
        settings = _token_settings()
        with audited_here(settings, "revoke-token", params={"name": name}):
            _tokens(settings).revoke(name)
    except ModelwardError as error:
        raise fail(error) from None
    console.print(f"revoked {name}.", highlight=False)


def audit(
    model: Annotated[str | None, typer.Option("--model", help="Only this model's.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action (e.g. pause).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="A span back (30m, 12h, 2d, 1w), an ISO time or epoch."),
    ] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="Only what this node did (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Show the audit log: who changed what, newest first."""
    try:
        after = parse_since(since) if since else None  # a bad value fails before any call
    except ModelwardError as error:
        raise fail(error) from None

    def remote(service: ServiceClient) -> AuditPublic:
        return service.audit(model_id=model, action=action, since=since, node=node, limit=limit)

    async def here(rt: Runtime) -> AuditPublic:
        # Imported here: a route module brings FastAPI, which no other command needs.
        from modelward.api.routes.audit import public_entry

        entries = await rt.audit.aquery(
            model_id=model, action=action, since=after, node=node, limit=limit
        )
        return AuditPublic(data=[public_entry(e) for e in entries], count=len(entries))

    found = ask_service_or_here(None, None, False, remote, here)
    if as_json:
        payload = [e.model_dump(mode="json") for e in found.data]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not found.data:
        console.print("no audit records match.")
        return
    _print_audit(found.data)


def _print_audit(entries: list[AuditEntryPublic]) -> None:
    table = Table(title="audit log")
    for column in ("time", "node", "actor", "action", "model", "outcome", "status", "error"):
        table.add_column(column)
    colour = {"ok": "green", "refused": "yellow", "failed": "red"}
    for e in entries:
        outcome = f"[{colour[e.outcome]}]{escape(e.outcome)}[/]"
        status = "-" if e.status is None else str(e.status)
        # Actor, action, model and code can come from a request: printed as text, not markup.
        cells = (_when(e.at.timestamp()), e.node or "-", e.actor, e.action, e.model_id or "-")
        table.add_row(*(escape(c) for c in cells), outcome, status, escape(e.error_code or "-"))
    print_table(table)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


@contextmanager
def audited_here(
    settings: Settings,
    action: str,
    *,
    model_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Record the change made inside the block, once, however it ends (no runtime here:
    the record goes straight to this home's database)."""
    try:
        yield
    except Exception as exc:
        outcome, code = _ended(exc)
        _record(settings, action, outcome, model_id, params, code)
        raise
    _record(settings, action, "ok", model_id, params, None)


@asynccontextmanager
async def audited(
    rt: Runtime,
    action: str,
    *,
    model_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> AsyncIterator[None]:
    """Record the change made inside the block with ``rt``, once, however it ends."""
    details: dict[str, Any] = {"model_id": model_id, "params": params}
    try:
        yield
    except Exception as exc:
        outcome, code = _ended(exc)
        await rt.audit.arecord(cli_actor(), action, outcome=outcome, error_code=code, **details)
        raise
    await rt.audit.arecord(cli_actor(), action, **details)


def _ended(exc: Exception) -> tuple[Outcome, str]:
    # Imported here: api.errors brings FastAPI, which most commands never need.
    from modelward.api.errors import status_for

    if isinstance(exc, ModelwardError):
        return ("failed" if status_for(exc) >= 500 else "refused"), exc.code
    return "failed", "internal-error"


def _record(
    settings: Settings,
    action: str,
    outcome: Outcome,
    model_id: str | None,
    params: dict[str, Any] | None,
    error_code: str | None,
) -> None:
    db = Database(settings.effective_database_url, node=settings.node_name)
    try:
        log = AuditLog(db, settings.audit_retention_days)
        log.record(
            cli_actor(),
            action,
            outcome=outcome,
            model_id=model_id,
            params=params,
            error_code=error_code,
        )
    finally:
        db.close()
