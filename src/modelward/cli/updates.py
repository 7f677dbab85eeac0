"""``modelward update check|apply|rollback|policy``: newer versions of a model, fetched
beside the one served, switched once verified, and undone."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    EndpointOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
    setup_logging,
)
from modelward.cli.output import console, err_console, fail
from modelward.cli.progress import PullProgress
from modelward.errors import ConfigError, ModelwardError
from modelward.runtime import Runtime
from modelward.updates import UpdateCheck, UpdatePolicy, UpdateResult

T = TypeVar("T")

update_app = typer.Typer(
    help="Model versions: check upstream, apply beside the old one, roll back.",
    no_args_is_help=True,
)
ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]


@update_app.command("check")
def check(
    models: Annotated[
        list[str] | None, typer.Argument(help="Model ids (default: all local).")
    ] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ask upstream whether newer versions exist."""
    setup_logging(verbose)

    async def run(rt: Runtime) -> list[UpdateCheck]:
        ids = models or [
            s.id for s in rt.catalog if await asyncio.to_thread(rt.manager.local_commit, s.id)
        ]
        return [await rt.updater.check_for_update(m) for m in ids]

    checks = _run(catalog, cache_dir, endpoint, run)
    if as_json:
        sys.stdout.write(json.dumps([dataclasses.asdict(c) for c in checks], indent=2) + "\n")
        return
    if not checks:
        console.print("no model is on disk yet; `modelward pull MODEL` first.")
        return
    table = Table(title="updates")
    for column in ("model", "served", "newest", "update"):
        table.add_column(column)
    for c in checks:
        mark = "rolled back from" if c.skipped else "yes" if c.update_available else "-"
        table.add_row(c.model_id, _short(c.current_version), _short(c.latest_version), mark)
    console.print(table)
    for c in checks:
        if c.update_available:
            console.print(f"{c.model_id}: {c.message}", highlight=False)


@update_app.command("apply")
def apply(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch the newest version beside the served one (changed files only) and switch once
    every file is verified; on failure the old version keeps being served."""
    setup_logging(verbose)

    async def run(rt: Runtime) -> UpdateResult:
        bars = PullProgress(console)
        unsubscribe = rt.bus.subscribe(bars)
        try:
            with bars.progress:
                return await rt.updater.apply_update(model)
        finally:
            unsubscribe()

    result = _run(catalog, cache_dir, endpoint, run)
    _print_result(result)
    if not result.success:
        raise typer.Exit(1)


@update_app.command("rollback")
def rollback(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the previous version again (while it is still on disk)."""
    setup_logging(verbose)
    _print_result(_run(catalog, cache_dir, None, lambda rt: rt.updater.rollback(model)))


@update_app.command("policy")
def policy(
    model: ModelArg,
    value: Annotated[str, typer.Argument(help="notify, ask, auto, or default.")],
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Set what happens when upstream moves for MODEL."""
    setup_logging(verbose)
    allowed = [p.value for p in UpdatePolicy]
    if value != "default" and value not in allowed:
        raise fail(
            ConfigError(
                f"policy must be one of {', '.join(allowed)} or default, got {value!r}",
                hint=f"e.g. `modelward update policy {model} ask`",
            )
        )
    chosen = None if value == "default" else UpdatePolicy(value)
    record = _run(catalog, None, None, lambda rt: rt.updater.set_policy(model, chosen))
    console.print(f"{model}: update policy {record.policy.value if record.policy else 'default'}")


def _run(
    catalog: list[Path] | None,
    cache_dir: Path | None,
    endpoint: str | None,
    work: Callable[[Runtime], Awaitable[T]],
) -> T:
    try:
        settings = build_settings(catalog, cache_dir, endpoint)

        async def main() -> T:
            async with Runtime(settings) as rt:
                return await work(rt)

        return asyncio.run(main())
    except (ModelwardError, TimeoutError) as error:
        if isinstance(error, TimeoutError):
            error = ModelwardError(
                "upstream did not answer in time", hint="Check the network and HF_ENDPOINT."
            )
        raise fail(error) from None


def _print_result(result: UpdateResult) -> None:
    out = console if result.success else err_console
    colour = "green" if result.success else "yellow"
    out.print(f"[{colour}]{result.model_id}[/]: {result.message}", highlight=False)


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "-"
