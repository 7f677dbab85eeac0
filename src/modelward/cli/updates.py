"""``modelward update check|apply|rollback|prune|policy``: newer versions of a model,
fetched beside the one served, switched once verified, and undone. Each asks the running
service (it serves the model and counts its jobs); with none, ``apply`` and ``rollback``
start one in the background, and ``check``, ``prune`` and ``policy`` work here."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from modelward.api.schemas import (
    PrunePublic,
    UpdateCheckPublic,
    UpdateRecordPublic,
    UpdateResultPublic,
)
from modelward.cli.client import ServiceClient
from modelward.cli.ops import audited
from modelward.cli.options import CacheDirOpt, CatalogOpt, JsonOpt, VerboseOpt
from modelward.cli.output import console, err_console, fail, print_table
from modelward.cli.where import as_public, ask_service_or_here
from modelward.errors import ConfigError
from modelward.runtime import Runtime
from modelward.units import format_size
from modelward.updates import UpdatePolicy

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

    def remote(service: ServiceClient) -> list[UpdateCheckPublic]:
        ids = models or [s.model_id for s in service.statuses() if s.current_version]
        return [service.update_check(m) for m in ids]

    async def local(rt: Runtime) -> list[UpdateCheckPublic]:
        ids = models or [
            s.id for s in rt.catalog if await asyncio.to_thread(rt.manager.local_commit, s.id)
        ]
        return [as_public(UpdateCheckPublic, await rt.updater.check_for_update(m)) for m in ids]

    checks = ask_service_or_here(catalog, cache_dir, verbose, remote, local)
    if as_json:
        payload = [c.model_dump(mode="json") for c in checks]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
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
    print_table(table)
    for c in checks:
        if c.update_available:
            console.print(f"{c.model_id}: {c.message}", highlight=False)


@update_app.command("apply")
def apply(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch the newest version beside the served one (changed files only) and switch once
    every file is verified; on failure the old version keeps being served."""

    result = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.update_apply(model),
        None,  # a download: the service does it (one starts if none runs)
        timeout_s=None,  # an update takes as long as its download
    )
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
    _print_result(
        ask_service_or_here(
            catalog,
            cache_dir,
            verbose,
            lambda s: s.rollback(model),
            None,  # switches what the service serves: the service does it
        )
    )


@update_app.command("prune")
def prune(
    model: ModelArg,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Remove the previous version kept for a rollback, once every file of the served one
    matches its checksum (refused otherwise, with nothing deleted)."""
    body = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda s: s.prune(model),
        lambda rt: _pruned(rt, model),
    )
    console.print(f"{model}: freed {format_size(body.freed_bytes)}", highlight=False)


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
        lambda s: s.set_update_policy(model, chosen and chosen.value),
        lambda rt: _policy_here(rt, model, chosen),
    )
    console.print(f"{model}: update policy {record.policy or 'default'}")


async def _pruned(rt: Runtime, model: str) -> PrunePublic:
    async with audited(rt, "prune", model_id=model):
        return PrunePublic(model_id=model, freed_bytes=await rt.updater.prune_previous(model))


async def _policy_here(rt: Runtime, model: str, chosen: UpdatePolicy | None) -> UpdateRecordPublic:
    policy = {"policy": chosen and chosen.value}
    async with audited(rt, "set-update-policy", model_id=model, params=policy):
        return as_public(UpdateRecordPublic, await rt.updater.set_policy(model, chosen))


def _print_result(result: UpdateResultPublic) -> None:
    out = console if result.success else err_console
    colour = "green" if result.success else "yellow"
    out.print(f"[{colour}]{result.model_id}[/]: {result.message}", highlight=False)


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "-"
