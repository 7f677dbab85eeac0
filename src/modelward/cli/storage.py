"""``modelward pin|unpin|rm|cleanup``: what stays on disk. Each asks the running service
when there is one (it knows which models its jobs hold), else works on the store here."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from modelward.availability import RetentionPolicy
from modelward.cli.client import ServiceClient, ServiceRequestError
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
    setup_logging,
)
from modelward.cli.output import console, err_console, fail
from modelward.cli.rates import parse_size
from modelward.errors import ModelwardError, ServiceNotRunningError
from modelward.runtime import Runtime

ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]


def pin(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Keep MODEL on this machine: cleanup never removes it."""
    _set_pin(model, True, catalog, cache_dir, verbose)


def unpin(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Let cleanup consider MODEL again."""
    _set_pin(model, False, catalog, cache_dir, verbose)


def _set_pin(
    model: str, pinned: bool, catalog: list[Path] | None, cache_dir: Path | None, verbose: bool
) -> None:
    path = _path(model, "pin")
    body = _ask(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.put(path, {}) if pinned else s.delete(path),
        lambda rt: _pinned(rt, model, pinned),
    )
    state = "pinned" if pinned else "not pinned"
    unchanged = " (it already was)" if pinned else " (it was not)"
    console.print(f"{model} is {state}" + ("" if body["changed"] else unchanged) + ".")


def rm(
    model: ModelArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Remove MODEL's files from the store (what other models share stays)."""
    plan = _ask(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.delete(_path(model, "") + "?dry_run=true"),
        lambda rt: rt.availability.remove_model(model, dry_run=True),
    )
    console.print(plan["message"], highlight=False)
    if dry_run or not plan["removed"]:
        return
    if not yes and not typer.confirm(f"Remove {model} from {_store(catalog, cache_dir)}?"):
        err_console.print("nothing removed.")
        raise typer.Exit(1)
    done = _ask(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.delete(_path(model, "") + "?dry_run=false"),
        lambda rt: rt.availability.remove_model(model, dry_run=False),
    )
    console.print(f"[green]{done['message']}[/]", highlight=False)


def cleanup(
    target_free: Annotated[
        str | None, typer.Option(help="Stop once this much is free, e.g. 200GB.")
    ] = None,
    keep_recent_days: Annotated[
        float, typer.Option(help="Keep models used within this many days.", min=0)
    ] = 30.0,
    execute: Annotated[
        bool, typer.Option("--execute/--dry-run", help="Remove (default: only show the plan).")
    ] = False,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Remove models nobody used lately, least valuable first; never a pinned one, one in
    use, one downloading, or one that queued jobs wait for."""
    target = parse_size(target_free) if target_free else None
    body: dict[str, Any] = {
        "keep_recent_days": keep_recent_days,
        "target_free_bytes": target,
        "dry_run": not execute,
    }
    policy = RetentionPolicy(keep_recent_days, target, dry_run=not execute)
    result = _ask(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.post("/api/v1/cleanup", body),
        lambda rt: rt.availability.cleanup_unused_models(policy),
    )
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    table = Table(title="cleanup " + ("(dry run)" if result["dry_run"] else "done"))
    for column in ("model", "size", "decision", "why"):
        table.add_column(column, overflow="fold")
    for c in result["removed"]:
        verb = "would remove" if result["dry_run"] else "removed"
        table.add_row(c["model_id"], _gb(c["size_bytes"]), f"[red]{verb}[/]", c["reason"])
    for c in result["kept"]:
        table.add_row(c["model_id"], _gb(c["size_bytes"]), "[green]keep[/]", c["reason"])
    console.print(table)
    console.print(
        f"{result['message']}; free: {_gb(result['free_bytes_before'])} → "
        f"{_gb(result['free_bytes_after'])}",
        highlight=False,
    )
    if result["dry_run"] and result["removed"]:
        console.print("`--execute` removes them.")


def _ask(
    catalog: list[Path] | None,
    cache_dir: Path | None,
    verbose: bool,
    remote: Callable[[ServiceClient], Any],
    local: Callable[[Runtime], Awaitable[Any]],
) -> dict[str, Any]:
    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir)
        try:
            client = ServiceClient.discover(settings)
        except ServiceNotRunningError:
            return _plain(asyncio.run(_here(settings, local)))
        with client:
            answer: dict[str, Any] = remote(client)
            return answer
    except (ModelwardError, ServiceRequestError) as error:
        raise fail(error) from None


async def _here(settings: Any, local: Callable[[Runtime], Awaitable[Any]]) -> Any:
    async with Runtime(settings) as rt:
        return await local(rt)


async def _pinned(rt: Runtime, model: str, pinned: bool) -> dict[str, Any]:
    changed = await rt.availability.pin_model(model, pinned)
    return {"model_id": model, "pinned": pinned, "changed": changed}


def _plain(value: Any) -> dict[str, Any]:
    """The local answer in the same JSON shape the service sends."""
    is_instance = dataclasses.is_dataclass(value) and not isinstance(value, type)
    data = dataclasses.asdict(value) if is_instance else value
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain


def _path(model: str, action: str) -> str:
    base = f"/api/v1/models/{quote(model, safe='')}"
    return f"{base}/{action}" if action else base


def _store(catalog: list[Path] | None, cache_dir: Path | None) -> str:
    return str(build_settings(catalog, cache_dir).cache_dir)


def _gb(n: int) -> str:
    return f"{n / 1e9:,.2f} GB"


COMMANDS: tuple[Callable[..., None], ...] = (pin, unpin, rm, cleanup)
