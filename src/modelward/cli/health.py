"""``modelward verify``, ``repair``, ``health`` and ``quarantine``: find damage, mend it,
see the whole picture and what was set aside."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from modelward.api.schemas import IntegrityPublic, SystemHealthReportPublic
from modelward.cli.actions import command_for
from modelward.cli.client import ServiceClient
from modelward.cli.headstart import serve_args
from modelward.cli.ops import audited, audited_here
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
    setup_logging,
)
from modelward.cli.output import console, err_console, fail, print_table, progress_bar, spinner
from modelward.cli.where import as_public, ask_service_or_here, service_for_work
from modelward.errors import ConfigError, ModelwardError, UnknownModelError
from modelward.health import (
    HealthCondition,
    IntegrityResult,
    PerformanceStatus,
    Severity,
    VerifyLevel,
)
from modelward.health.issues import CORRUPTION_KINDS
from modelward.health.quarantine import Quarantine, describe
from modelward.runtime import Runtime
from modelward.units import format_size


def verify(
    models: Annotated[list[str] | None, typer.Argument(help="Model ids (default: all).")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Hash every file against its published checksum.")
    ] = False,
    level: Annotated[
        VerifyLevel | None,
        typer.Option(
            help="quick (stat), structural (headers, the default), scrub (structural plus "
            "the next blocks of a rotating sample) or full (sha256)."
        ),
    ] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check downloaded models for damage; exit 1 when any is unhealthy."""
    chosen = VerifyLevel.FULL if full else (level or VerifyLevel.STRUCTURAL)
    # Through the service when one runs (it owns the store and may be writing to it);
    # with none, here: a check downloads nothing, so no service is started for it.
    results = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda client: _verify_in_service(client, models, chosen),
        lambda rt: _verify_here(rt, models, chosen),
        timeout_s=None,  # a full check of a large model takes minutes
    )
    if as_json:
        payload = [r.model_dump(mode="json") for r in results]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        _print(results)
    if not all(r.is_healthy for r in results):
        raise typer.Exit(1)


def _verify_in_service(
    client: ServiceClient, model_ids: list[str] | None, level: VerifyLevel
) -> list[IntegrityPublic]:
    if model_ids:
        known = {m.id for m in client.models().data}
        for model_id in model_ids:
            if model_id not in known:  # every id is checked before any work
                raise UnknownModelError(
                    f"unknown model id {model_id!r}",
                    hint="Run 'modelward status' to list the model ids.",
                )
        ids = model_ids
    else:  # all: what the service's store holds at all
        ids = [s.model_id for s in client.statuses() if s.present_bytes]
    results = []
    for model_id in ids:
        # The service does not stream a check's progress: a live line says what it does.
        what = (
            f"hashing {model_id} (full, sha256)"
            if level is VerifyLevel.FULL
            else f"checking {model_id} ({level.value})"
        )
        with spinner(f"{what} in the service…"):
            results.append(client.verify(model_id, level.value))
    return results


async def _verify_here(
    runtime: Runtime, model_ids: list[str] | None, level: VerifyLevel
) -> list[IntegrityPublic]:
    ids = model_ids or runtime.catalog.ids()
    for model_id in ids:
        runtime.catalog.get(model_id)  # every id is checked before any work
    if model_ids is None:  # all: only what is on disk at all
        ids = [m for m in ids if await asyncio.to_thread(runtime.manager.target_on_disk, m)]
    results = []
    for model_id in ids:
        async with audited(runtime, "verify", model_id=model_id, params={"level": level.value}):
            if level is VerifyLevel.FULL:
                result = await _full_with_progress(runtime, model_id)
            else:
                with spinner(f"checking {model_id} ({level.value})…"):
                    result = await runtime.health.check_model_integrity(model_id, level)
        results.append(as_public(IntegrityPublic, result))
    return results


async def _full_with_progress(runtime: Runtime, model_id: str) -> IntegrityResult:
    """A full check of one model with a bar of the bytes hashed (on both cores)."""
    target = runtime.manager.known_target(model_id)
    total = target.size_bytes if target else 0
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),  # decimal units, like the rest of the CLI
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with progress_bar(*columns) as progress:
        task = progress.add_task(f"{model_id} sha256", total=total)

        def on_hashed(size: int) -> None:  # from the hashing threads: rich locks itself
            progress.advance(task, size)

        result = await runtime.health.check_model_integrity(model_id, VerifyLevel.FULL, on_hashed)
        progress.update(task, completed=total)  # files a stat already condemned are not read
    return result


def _print(results: list[IntegrityPublic]) -> None:
    if not results:
        console.print("nothing downloaded yet: run `modelward pull MODEL` first")
        return
    table = Table(title="modelward verify")
    for column in ("model", "level", "health", "score", "issues"):
        table.add_column(column)
    for r in results:
        health = "[green]healthy[/]" if r.is_healthy else "[red]damaged[/]"
        issues = str(len(r.issues)) if r.issues else "-"
        score = f"{r.integrity_score:.0%}" if r.integrity_score is not None else "-"
        table.add_row(r.model_id, r.level, health, score, issues)
    print_table(table)
    # File paths are long words: listed under the table, where they need not be cut.
    for r in results:
        for i in r.issues:
            console.print(f"{r.model_id}: {i.path}: {i.kind}, {i.detail}", markup=False)
    damaged = [r for r in results if any(i.kind in CORRUPTION_KINDS for i in r.issues)]
    if damaged:
        names = " ".join(r.model_id for r in damaged)
        console.print(
            f"[bold]next step:[/] `modelward repair MODEL` ({names}) quarantines the damaged "
            'bytes and fetches only the damaged blocks; a file only "modified" may be '
            "fine: `modelward verify MODEL --full` tells."
        )
    elif not all(r.is_healthy for r in results):
        console.print("[bold]next step:[/] `modelward pull MODEL` fetches the missing files.")


def repair(
    model: Annotated[str, typer.Argument(help="The model to repair.")],
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Fully check a model, quarantine damaged files and fetch only their damaged blocks."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir)
        # A repair downloads: the service does it (one starts in the background if none runs).
        client = service_for_work(settings, serve_args(catalog, cache_dir), timeout_s=None)
        with client, spinner(f"checking and repairing {model}…"):
            result = client.repair(model)
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif not result.issues_found:
        console.print(f"[green]✓[/] {model}: healthy, nothing to repair")
    else:
        for plan in result.plans:
            where = (
                f", damaged copy in quarantine {plan.quarantine_id}" if plan.quarantine_id else ""
            )
            done = "fetched" if result.success else "was to fetch"
            console.print(f"  {plan.path}: {done} {format_size(plan.refetch_bytes)} again{where}")
        mark = "[green]✓[/]" if result.success else "[red]✗[/]"
        console.print(
            f"{mark} {model}: {len(result.issues_found)} issue(s), "
            f"{format_size(result.bytes_fetched)} fetched"
        )
    if not result.success:
        if result.error_message:
            err_console.print(f"[bold red]error[/]: {result.error_message}")
            if result.error_hint:
                err_console.print(f"[bold]next step:[/] {result.error_hint}")
        raise typer.Exit(1)


def health(
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The system health report: each model's condition, the overall score, disk usage and
    what to do next; exit 1 when a model is corrupted."""
    # Imported here: a route module brings FastAPI, which no other command needs.
    from modelward.api.routes.health import public_report

    report = ask_service_or_here(
        catalog, cache_dir, verbose, lambda client: client.health_report(), public_report
    )
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        _print_report(report)
    if report.models_corrupted:
        raise typer.Exit(1)


_CONDITION_STYLE = {
    HealthCondition.HEALTHY: "green",
    HealthCondition.DEGRADED: "yellow",
    HealthCondition.CORRUPTED: "red",
    HealthCondition.INCOMPLETE: "yellow",
    HealthCondition.ABSENT: "dim",
}
_SEVERITY_STYLE = {Severity.CRITICAL: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _print_report(report: SystemHealthReportPublic) -> None:
    console.print(
        f"[bold]overall health {report.overall_health_score:.0%}[/]: "
        f"{report.models_healthy} healthy, {report.models_degraded} degraded, "
        f"{report.models_corrupted} corrupted, {report.models_incomplete} incomplete, "
        f"{report.models_absent} not downloaded; disk {report.storage_usage_percent:.1f}% used "
        f"({format_size(report.storage_free_bytes)} free)"
    )
    table = Table(title="modelward health")
    for column in ("model", "condition", "integrity", "last check", "performance", "issues"):
        table.add_column(column)
    for m in report.models:
        style = _CONDITION_STYLE[HealthCondition(m.condition)]
        condition = m.condition + (
            " (repairing)" if m.repairing else " (downloading)" if m.downloading else ""
        )
        checked = (
            f"{format_age(m.check_age_s)} ({m.last_check_level})"
            if m.check_age_s is not None
            else "never"
        )
        performance = m.performance_status
        if m.performance_status != PerformanceStatus.LEARNING:
            performance += f" {m.performance_score:.0%}"
        issues = str(len(m.issues)) if m.issues else "-"
        score = f"{m.integrity_score:.0%}" if m.integrity_score is not None else "-"
        table.add_row(m.model_id, f"[{style}]{condition}[/]", score, checked, performance, issues)
    print_table(table)
    for m in report.models:  # paths are long words: listed under the table, not cut in it
        _print_issues(m.model_id, [f"{i.path} ({i.kind})" for i in m.issues])
    for r in report.recommendations:
        style = _SEVERITY_STYLE[Severity(r.severity)]
        console.print(f"[{style}]{r.severity}[/] {r.message}", highlight=False)
        command = command_for(r.action, r.model_id)
        if command is not None:
            console.print(f"    → {command}", markup=False, highlight=False)


def _print_issues(model_id: str, issues: list[str], shown: int = 5) -> None:
    if not issues:
        return
    more = f" and {len(issues) - shown} more" if len(issues) > shown else ""
    console.print(f"{model_id}: {', '.join(issues[:shown])}{more}", markup=False)


def format_age(seconds: float) -> str:
    """A duration in the past, the way a person says it ("5 min ago")."""
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


quarantine_app = typer.Typer(help="Files set aside as damaged.", no_args_is_help=True)


@quarantine_app.command("list")
def quarantine_list(catalog: CatalogOpt = None, as_json: JsonOpt = False) -> None:
    """Show what is in quarantine, and why."""
    quarantine = _quarantine(catalog)
    entries = quarantine.entries()
    if as_json:
        payload = [dataclasses.asdict(e) for e in entries]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    for entry in entries:
        console.print(describe(entry), markup=False)
    console.print(
        f"{len(entries)} file(s), {format_size(quarantine.used_bytes())} "
        f"(cap {format_size(quarantine.cap_bytes)}) in {quarantine.root}"
    )


@quarantine_app.command("purge")
def quarantine_purge(
    entry_ids: Annotated[
        list[str] | None, typer.Argument(help="Entries to delete (default: all).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete entries whose file is not repaired yet.")
    ] = False,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Delete quarantined files for good (only those whose file is back, verified, unless
    --force)."""
    quarantine = _quarantine(catalog, cache_dir)
    entries = quarantine.entries()
    unknown = sorted(set(entry_ids or ()) - {e.entry_id for e in entries})
    if unknown:
        raise fail(
            ConfigError(
                f"no quarantine entry {', '.join(map(repr, unknown))}",
                hint="`modelward quarantine list` shows the entries and their ids.",
            )
        )
    chosen = [e for e in entries if entry_ids is None or e.entry_id in entry_ids]
    if not chosen:
        console.print("nothing to purge")
        return
    size = sum(e.size_bytes for e in chosen)
    if not yes and not typer.confirm(f"Delete {len(chosen)} file(s), {format_size(size)}?"):
        raise typer.Exit(1)
    waiting = [e for e in chosen if not force and not quarantine.replacement_verified(e)]
    purged = {"force": force, "entry_ids": [e.entry_id for e in chosen]}
    with audited_here(build_settings(catalog, cache_dir), "quarantine-purge", params=purged):
        freed = quarantine.purge([e.entry_id for e in chosen], force=force)
    console.print(f"freed {format_size(freed)}")
    for entry in waiting:
        err_console.print(
            f"kept {entry.entry_id} ({entry.path}): its file is not back in the store, "
            "verified; repair the model first, or --force"
        )


def _quarantine(catalog: list[Path] | None, cache_dir: Path | None = None) -> Quarantine:
    try:
        settings = build_settings(catalog, cache_dir)
    except ModelwardError as error:
        raise fail(error) from None
    return Quarantine(settings.home, settings.quarantine_cap_bytes, settings.cache_dir)
