"""``modelward pin|unpin|rm|cleanup``: what stays on disk. Each asks the running service
when there is one (it knows which models its jobs hold), else works on the store here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from modelward.availability import RetentionPolicy
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
)
from modelward.cli.output import console, err_console
from modelward.cli.rates import parse_size
from modelward.cli.where import ask_service_or_here
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
    body = ask_service_or_here(
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
    plan = ask_service_or_here(
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
    done = ask_service_or_here(
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
    result = ask_service_or_here(
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


async def _pinned(rt: Runtime, model: str, pinned: bool) -> dict[str, Any]:
    changed = await rt.availability.pin_model(model, pinned)
    return {"model_id": model, "pinned": pinned, "changed": changed}


def _path(model: str, action: str) -> str:
    base = f"/api/v1/models/{quote(model, safe='')}"
    return f"{base}/{action}" if action else base


def _store(catalog: list[Path] | None, cache_dir: Path | None) -> str:
    return str(build_settings(catalog, cache_dir).cache_dir)


def _gb(n: int) -> str:
    return f"{n / 1e9:,.2f} GB"


COMMANDS: tuple[Callable[..., None], ...] = (pin, unpin, rm, cleanup)
