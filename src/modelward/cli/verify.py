"""``modelward verify``: check models on disk at a chosen level and say what is wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
    setup_logging,
)
from modelward.cli.output import console, fail
from modelward.errors import ModelwardError
from modelward.health import IntegrityResult, VerifyLevel
from modelward.runtime import Runtime
from modelward.settings import Settings


def verify(
    models: Annotated[list[str] | None, typer.Argument(help="Model ids (default: all).")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Hash every file against its published checksum.")
    ] = False,
    level: Annotated[
        VerifyLevel | None,
        typer.Option(help="quick (stat), structural (headers, the default) or full (sha256)."),
    ] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check downloaded models for damage; exit 1 when any is unhealthy."""
    setup_logging(verbose)
    chosen = VerifyLevel.FULL if full else (level or VerifyLevel.STRUCTURAL)
    try:
        settings = build_settings(catalog, cache_dir)
        results = asyncio.run(_verify(settings, models, chosen))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        payload = [dataclasses.asdict(r) for r in results]
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        _print(results)
    if not all(r.is_healthy for r in results):
        raise typer.Exit(1)


async def _verify(
    settings: Settings, model_ids: list[str] | None, level: VerifyLevel
) -> list[IntegrityResult]:
    async with Runtime(settings) as runtime:
        ids = model_ids or runtime.catalog.ids()
        for model_id in ids:
            runtime.catalog.get(model_id)  # every id is checked before any work
        if model_ids is None:  # all: only what has been downloaded at all
            ids = [m for m in ids if runtime.manager.known_target(m) is not None]
        results = []
        for model_id in ids:
            with console.status(f"checking {model_id} ({level.value})…"):
                results.append(await runtime.health.check_model_integrity(model_id, level))
        return results


def _print(results: list[IntegrityResult]) -> None:
    if not results:
        console.print("nothing downloaded yet: run `modelward pull MODEL` first")
        return
    table = Table(title="modelward verify")
    for column in ("model", "level", "health", "score", "issues"):
        table.add_column(column, overflow="fold")
    for r in results:
        health = "[green]healthy[/]" if r.is_healthy else "[red]damaged[/]"
        issues = "\n".join(f"{i.path}: {i.kind.value}, {i.detail}" for i in r.issues) or "-"
        table.add_row(r.model_id, r.level.value, health, f"{r.integrity_score:.0%}", issues)
    console.print(table)
    if not all(r.is_healthy for r in results):
        console.print(
            "[bold]next step:[/] `modelward verify MODEL --full` names checksum damage; "
            "`modelward pull MODEL` fetches files that are missing."
        )
