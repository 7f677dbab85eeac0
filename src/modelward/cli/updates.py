"""``modelward update check|apply|rollback|prune|policy``: newer versions of a model,
fetched beside the one served, switched once verified, and undone. Each asks the running
service when there is one (it serves the model and counts its jobs), else works here."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from modelward.cli.options import CacheDirOpt, CatalogOpt, JsonOpt, VerboseOpt
from modelward.cli.output import console, err_console, fail
from modelward.cli.progress import PullProgress
from modelward.cli.where import ask_service_or_here
from modelward.errors import ConfigError
from modelward.runtime import Runtime
from modelward.updates import UpdateCheck, UpdatePolicy, UpdateResult

update_app = typer.Typer(
    help="Model versions: check upstream, apply beside the old one, roll back.",
    no_args_is_help=True,
)
ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]


@update_app.command("check")
def check(
    models: Annotated[
        list[str] | None, typer.Argument(help="Model ids (default: every one on disk).")
    ] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ask upstream whether newer versions exist."""

    def remote(service: Any) -> list[Any]:
        ids = models or [
            s["model_id"]
            for s in service.get("/api/v1/models/status")["data"]
            if s["current_version"]
        ]
        return [service.get(_path(m, "update")) for m in ids]

    async def local(rt: Runtime) -> list[UpdateCheck]:
        ids = models or [
            s.id for s in rt.catalog if await asyncio.to_thread(rt.manager.local_commit, s.id)
        ]
        return [await rt.updater.check_for_update(m) for m in ids]

    checks = ask_service_or_here(catalog, cache_dir, verbose, remote, local)
    if as_json:
        sys.stdout.write(json.dumps(checks, indent=2) + "\n")
        return
    if not checks:
        console.print("no model is on disk yet; `modelward pull MODEL` first.")
        return
    table = Table(title="updates")
    for column in ("model", "served", "newest", "update"):
        table.add_column(column)
    for c in checks:
        mark = "rolled back from" if c["skipped"] else "yes" if c["update_available"] else "-"
        table.add_row(
            c["model_id"], _short(c["current_version"]), _short(c["latest_version"]), mark
        )
    console.print(table)
    for c in checks:
        if c["update_available"]:
            console.print(f"{c['model_id']}: {c['message']}", highlight=False)


@update_app.command("apply")
def apply(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch the newest version beside the served one (changed files only) and switch once
    every file is verified; on failure the old version keeps being served."""

    async def local(rt: Runtime) -> UpdateResult:
        bars = PullProgress(console)
        unsubscribe = rt.bus.subscribe(bars)
        try:
            with bars.progress:
                return await rt.updater.apply_update(model)
        finally:
            unsubscribe()

    result = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.post(_path(model, "update")),
        local,
        timeout_s=None,  # an update takes as long as its download
    )
    _print_result(result)
    if not result["success"]:
        raise typer.Exit(1)


@update_app.command("rollback")
def rollback(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the previous version again (while it is still on disk)."""
    _print_result(
        ask_service_or_here(
            catalog,
            cache_dir,
            verbose,
            lambda s: s.post(_path(model, "rollback")),
            lambda rt: rt.updater.rollback(model),
        )
    )


@update_app.command("prune")
def prune(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Remove the previous version kept for a rollback (once the served one is whole)."""
    body = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.delete(_path(model, "versions/previous")),
        lambda rt: _pruned(rt, model),
    )
    console.print(f"{model}: freed {body['freed_bytes'] / 1e9:.2f} GB", highlight=False)


@update_app.command("policy")
def policy(
    model: ModelArg,
    value: Annotated[str, typer.Argument(help="notify, ask, auto, or default.")],
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Set what happens when upstream moves for MODEL."""
    allowed = [p.value for p in UpdatePolicy]
    if value != "default" and value not in allowed:
        raise fail(
            ConfigError(
                f"policy must be one of {', '.join(allowed)} or default, got {value!r}",
                hint=f"e.g. `modelward update policy {model} ask`",
            )
        )
    chosen = None if value == "default" else UpdatePolicy(value)
    record = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.put(_path(model, "update-policy"), {"policy": chosen and chosen.value}),
        lambda rt: rt.updater.set_policy(model, chosen),
    )
    console.print(f"{model}: update policy {record['policy'] or 'default'}")


async def _pruned(rt: Runtime, model: str) -> dict[str, Any]:
    return {"model_id": model, "freed_bytes": await rt.updater.prune_previous(model)}


def _print_result(result: dict[str, Any]) -> None:
    out = console if result["success"] else err_console
    colour = "green" if result["success"] else "yellow"
    out.print(f"[{colour}]{result['model_id']}[/]: {result['message']}", highlight=False)


def _path(model: str, action: str) -> str:
    return f"/api/v1/models/{quote(model, safe='')}/{action}"


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "-"
