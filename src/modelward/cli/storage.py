"""``modelward pin|unpin|rm|cleanup``: what stays on disk. Each asks the running service
(it knows which models its jobs hold); with none, ``rm`` and ``cleanup --execute`` start
one in the background, and pin, unpin, ``rm``'s plan and a cleanup plan work here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelward.api.schemas import CleanupIn, CleanupPublic, PinPublic
from modelward.availability import RetentionPolicy
from modelward.cli.ops import audited
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
)
from modelward.cli.output import console, err_console, print_table
from modelward.cli.where import as_public, ask_service_or_here
from modelward.runtime import Runtime
from modelward.units import format_size, parse_size

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
    body = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.pin(model, pinned),
        lambda rt: _pinned(rt, model, pinned),
    )
    state = "pinned" if pinned else "not pinned"
    unchanged = " (it already was)" if pinned else " (it was not)"
    console.print(f"{model} is {state}" + ("" if body.changed else unchanged) + ".")


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
        lambda s: s.remove(model, dry_run=True),
        lambda rt: _removal_here(rt, model),
    )
    console.print(plan.message, highlight=False)
    if dry_run or not plan.removed:
        return
    if not yes and not typer.confirm(f"Remove {model} from {_store(catalog, cache_dir)}?"):
        err_console.print("nothing removed.")
        raise typer.Exit(1)
    done = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.remove(model, dry_run=False),
        None,  # the service knows what its jobs hold; one starts if none runs
    )
    console.print(f"[green]{done.message}[/]", highlight=False)


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
    request = CleanupIn(
        keep_recent_days=keep_recent_days, target_free_bytes=target, dry_run=not execute
    )
    policy = RetentionPolicy(keep_recent_days, target, dry_run=not execute)

    async def here(rt: Runtime) -> CleanupPublic:
        return as_public(CleanupPublic, await rt.availability.cleanup_unused_models(policy))

    result = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.cleanup(request),
        None if execute else here,  # removing is the service's work; a plan is computed here
    )
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    table = Table(title="cleanup " + ("(dry run)" if result.dry_run else "done"))
    for column in ("model", "size", "decision", "why"):
        table.add_column(column)
    for c in result.removed:
        verb = "would remove" if result.dry_run else "removed"
        table.add_row(c.model_id, format_size(c.size_bytes), f"[red]{verb}[/]", c.reason)
    for c in result.kept:
        table.add_row(c.model_id, format_size(c.size_bytes), "[green]keep[/]", c.reason)
    print_table(table)
    console.print(
        f"{result.message}; free: {format_size(result.free_bytes_before)} → "
        f"{format_size(result.free_bytes_after)}",
        highlight=False,
    )
    if result.dry_run and result.removed:
        console.print("`--execute` removes them.")


async def _pinned(rt: Runtime, model: str, pinned: bool) -> PinPublic:
    async with audited(rt, "pin" if pinned else "unpin", model_id=model):
        changed = await rt.availability.pin_model(model, pinned)
    return PinPublic(model_id=model, pinned=pinned, changed=changed)


async def _removal_here(rt: Runtime, model: str) -> CleanupPublic:
    return as_public(CleanupPublic, await rt.availability.remove_model(model, dry_run=True))


def _store(catalog: list[Path] | None, cache_dir: Path | None) -> str:
    return str(build_settings(catalog, cache_dir).cache_dir)


COMMANDS: tuple[Callable[..., None], ...] = (pin, unpin, rm, cleanup)
