"""The ``modelward`` command: typer commands over the same calls the service makes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelward.cli import control, storage
from modelward.cli.adopt import adopt
from modelward.cli.analytics import analytics
from modelward.cli.availability import suggest
from modelward.cli.health import health, quarantine_app, repair, verify
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
from modelward.cli.pull import print_results, pull_with_bars
from modelward.cli.rates import parse_rate
from modelward.cli.requests import request_app
from modelward.cli.updates import update_app
from modelward.errors import ModelwardError
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.status import DetailedModelStatus
from modelward.transfer import DownloadResult

app = typer.Typer(
    name="modelward",
    help="Keep large AI model weights available on this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
__all__ = ["app", "console", "err_console", "fail", "main"]


@app.command()
def pull(
    models: Annotated[list[str], typer.Argument(help="Model ids from the catalog.")],
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    max_retries: Annotated[
        int | None, typer.Option(help="Failures in a row before giving up.")
    ] = None,
    limit: Annotated[
        str | None,
        typer.Option(
            "--limit",
            help="Cap the total rate, e.g. 20MB/s or 50MiB/s (0 = unlimited).",
            show_default=False,
        ),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option("--connections", help="Connections at once, across all files.", min=1),
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Download models, verified; resumes whatever an earlier run left."""
    setup_logging(verbose)
    try:
        settings = build_settings(
            catalog,
            cache_dir,
            endpoint,
            max_retries=max_retries,
            bandwidth_limit_bytes_per_s=parse_rate(limit) if limit is not None else None,
            connections=connections,
        )
        results = asyncio.run(_pull(settings, models))
    except ModelwardError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: partial data is kept; run the same command again to resume."
        )
        raise typer.Exit(130) from None
    print_results(results, console, err_console)
    raise typer.Exit(0 if all(r.success for r in results) else 1)


async def _pull(settings: Settings, model_ids: list[str]) -> list[DownloadResult]:
    async with Runtime(settings) as runtime:
        for model_id in model_ids:
            runtime.catalog.get(model_id)  # refuse unknown ids before fetching anything
        return await pull_with_bars(runtime, model_ids, console)


@app.command()
def status(
    models: Annotated[list[str] | None, typer.Argument(help="Model ids (default: all).")] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    as_json: JsonOpt = False,
    offline: Annotated[
        bool, typer.Option(help="Never ask the hub; use local records only.")
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Show each model's state, progress, missing files, what it can be used for, and where
    it is."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir, endpoint)
        statuses = asyncio.run(_statuses(settings, models, resolve_remote=not offline))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        payload = [dataclasses.asdict(s) for s in statuses]
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    _print_status_table(statuses)


async def _statuses(
    settings: Settings, model_ids: list[str] | None, *, resolve_remote: bool
) -> list[DetailedModelStatus]:
    async with Runtime(settings) as runtime:
        ids = model_ids or runtime.catalog.ids()
        for model_id in ids:
            runtime.catalog.get(model_id)
        return [await runtime.availability.status(m, resolve_remote=resolve_remote) for m in ids]


def _print_status_table(statuses: list[DetailedModelStatus]) -> None:
    table = Table(title="modelward status")
    for column in ("model", "status", "size", "on disk", "missing files", "usable for"):
        table.add_column(column, overflow="fold")
    colours = {"available": "green", "corrupted": "red", "failed": "red", "missing": "yellow"}
    for s in statuses:
        state = s.availability_status.value
        table.add_row(
            s.model_id,
            f"[{colours.get(state, 'cyan')}]{state}[/]",
            f"{s.size_bytes / 2**30:,.2f} GiB" if s.size_bytes else "?",
            f"{s.verified_bytes / 2**30:,.2f} GiB verified",
            str(len(s.missing_files)) if s.missing_files or s.is_available else "?",
            "\n".join(s.usable_for) or "-",
        )
    console.print(table)
    for s in statuses:
        if s.local_path:
            console.print(f"{s.model_id}: {s.local_path}", highlight=False, soft_wrap=True)
        elif s.download_progress is not None and not s.is_available:
            line = f"{s.model_id}: {s.download_progress:.1f}% verified"
            if s.estimated_download_time is not None:
                line += f", about {s.estimated_download_time.total_seconds():.0f} s left"
            if s.missing_files:
                shown = ", ".join(s.missing_files[:5])
                more = f" and {len(s.missing_files) - 5} more" if len(s.missing_files) > 5 else ""
                line += f"; missing: {shown}{more}"
            console.print(line, highlight=False, soft_wrap=True)
    for s in statuses:
        if s.error_message:
            err_console.print(f"[yellow]{s.model_id}[/]: {s.error_message} ({s.error_hint})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the HTTP service (API under /api/v1, OpenAPI at /docs)."""
    from modelward.cli.service import run_service

    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir, endpoint, host=host, port=port)
        run_service(settings, console)
    except ModelwardError as error:
        raise fail(error) from None


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the service.")] = 8321,
    hub_port: Annotated[int, typer.Option(help="Port of the local hub (0 = any free).")] = 0,
    scale: Annotated[
        str, typer.Option(help="Size of each synthetic repo, e.g. 8MB, 2GB.")
    ] = "256MB",
    hub_rate: Annotated[
        str,
        typer.Option(
            help="Per-connection rate cap of the local hub, so progress is visible (0 = none)."
        ),
    ] = "25MB",
    root: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its hub and store.")
    ] = None,
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Start the local hub and the service pointed at it, then pull the default catalog."""
    from modelward.cli.demo import run_demo

    setup_logging(verbose)
    try:
        run_demo(
            console,
            port=port,
            hub_port=hub_port,
            scale=scale,
            hub_rate=hub_rate,
            root=root,
            catalog=catalog,
        )
    except ModelwardError as error:
        raise fail(error) from None


for _command in control.COMMANDS:
    app.command()(_command)
app.command()(verify)
app.command()(repair)
app.command()(health)
app.command()(suggest)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(request_app, name="request")
app.add_typer(update_app, name="update")
app.command()(adopt)
app.command()(analytics)
for _storage_command in storage.COMMANDS:
    app.command()(_storage_command)

hub_app = typer.Typer(
    help="The bundled local hub (synthetic Wan2.2-shaped repos).", no_args_is_help=True
)
app.add_typer(hub_app, name="hub")


@hub_app.command("serve")
def hub_serve(
    port: Annotated[int, typer.Option(help="Port to listen on (0 = any free).")] = 8330,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    root: Annotated[Path | None, typer.Option(help="Where generated repos are kept.")] = None,
    scale: Annotated[str, typer.Option(help="Size of each repo, e.g. 8MB, 2GB.")] = "tiny",
    faults: Annotated[Path | None, typer.Option(help="JSON file with a fault plan.")] = None,
    gated: Annotated[
        list[str] | None,
        typer.Option(help="Gate a repo behind a token: ORG/NAME=TOKEN (repeatable)."),
    ] = None,
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve synthetic repos over the Hub protocol, with a fault menu for tests."""
    from modelward.devhub import serve as serve_hub

    setup_logging(verbose)
    settings = build_settings(catalog)
    gates: dict[str, str] = {}
    for item in gated or ():
        repo, sep, token = item.partition("=")
        if not sep or not token or "/" not in repo:
            raise typer.BadParameter(f"expected ORG/NAME=TOKEN, got {item!r}", param_hint="--gated")
        gates[repo] = token
    serve_hub(
        host=host,
        port=port,
        root=root or settings.home / "devhub",
        scale=scale,
        faults_file=faults,
        gated=gates,
    )


def main() -> None:
    """Console-script entry point."""
    app()
