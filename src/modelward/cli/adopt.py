"""``modelward adopt PATH MODEL``: bring a folder that already holds a model's files into
the store, then fetch only what it could not provide."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
from rich.table import Table

from modelward.cli.headstart import serve_args
from modelward.cli.ops import audited
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    EndpointOpt,
    VerboseOpt,
    build_settings,
    setup_logging,
)
from modelward.cli.output import console, err_console, fail, print_table, progress_bar
from modelward.cli.pull import pull_and_report
from modelward.cli.where import service_for_work
from modelward.errors import ModelwardError
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.store.adopt import AdoptMode, AdoptOutcome, AdoptReport, adopt_folder
from modelward.units import format_size


def adopt(
    path: Annotated[Path, typer.Argument(help="Folder holding the model's files.")],
    model: Annotated[str, typer.Argument(help="Model id from the catalog.")],
    move: Annotated[
        bool,
        typer.Option(
            "--move/--link",
            help="Move the files into the store (default: hard-link them, the folder keeps "
            "its names; both share the same bytes).",
        ),
    ] = False,
    fetch: Annotated[
        bool, typer.Option(help="Fetch what the folder could not provide afterwards.")
    ] = True,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Verify each file in PATH against the source's checksums and bring the good ones into
    the store (never a second copy on the same disk); only the rest is downloaded."""
    setup_logging(verbose)
    mode = AdoptMode.MOVE if move else AdoptMode.LINK
    try:
        settings = build_settings(catalog, cache_dir, endpoint)
        report = asyncio.run(_adopt(settings, path, model, mode))
        _print_report(report)
        if fetch and not report.complete:  # the rest is a download: the service's work
            with service_for_work(settings, serve_args(catalog, cache_dir, endpoint)) as client:
                code = pull_and_report(client, [model], console, err_console)
            raise typer.Exit(code)
    except ModelwardError as error:
        raise fail(error) from None
    if not report.complete:
        console.print(f"`modelward pull {model}` fetches the {len(report.to_fetch)} other file(s).")


async def _adopt(settings: Settings, path: Path, model: str, mode: AdoptMode) -> AdoptReport:
    async with Runtime(settings) as rt:
        spec = rt.catalog.get(model)
        target = await rt.downloader.source(model).resolve(spec)
        present = sum(f.size_bytes for f in target.files if (path / f.path).is_file())
        columns = (
            TextColumn("[bold]verifying[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        with progress_bar(*columns, transient=True) as progress:
            task = progress.add_task(str(path), total=present)
            adopting = {"path": str(path), "mode": mode.value}
            async with audited(rt, "adopt", model_id=model, params=adopting):
                report = await asyncio.to_thread(
                    adopt_folder,
                    rt.manager,
                    target,
                    path,
                    mode,
                    lambda n: progress.advance(task, n),
                )
        return report


def _print_report(report: AdoptReport) -> None:
    table = Table(title=f"adopting {report.model_id} from {report.folder} ({report.mode.value})")
    for column in ("file", "size", "outcome", "detail"):
        table.add_column(column)
    colours = {AdoptOutcome.ADOPTED: "green", AdoptOutcome.ALREADY_PRESENT: "cyan"}
    for f in report.files:
        colour = colours.get(f.outcome, "yellow")
        outcome = f"[{colour}]{f.outcome.value}[/]"
        table.add_row(f.path, format_size(f.size_bytes), outcome, f.detail)
    print_table(table)
    console.print(
        f"adopted {len(report.adopted)} file(s), {format_size(report.adopted_bytes)}; "
        f"{len(report.to_fetch)} to fetch",
        highlight=False,
    )
