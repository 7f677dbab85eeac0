"""The ``modelward`` command: typer commands over the same calls the service makes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from modelward.cli import version_line
from modelward.cli.commands import LazyGroup
from modelward.cli.options import (
    CacheDirOpt,
    CatalogOpt,
    EndpointOpt,
    ExcludeOpt,
    IncludeOpt,
    JsonOpt,
    VerboseOpt,
    build_settings,
    check_scale,
    setup_logging,
)
from modelward.cli.output import console, err_console, fail
from modelward.errors import ModelwardError

# The commands here and in the other modules are registered in commands.py (LAZY): typer
# builds a command's options only when it runs, and imports its module only then. Each
# command imports what its work needs when it runs (the runtime, the HTTP client, the API's
# schemas: most of a second), so no command pays for another's.

app = typer.Typer(
    name="modelward",
    help="Keep large AI model weights available on this machine.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
__all__ = ["app", "console", "err_console", "fail", "main"]


def _print_version(wanted: bool) -> None:
    if wanted:
        console.print(version_line(), markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Options of ``modelward`` itself (``main`` answers a lone ``--version`` sooner)."""


def pull(
    models: Annotated[
        list[str],
        typer.Argument(
            help="Model ids from the catalog, or Hub repos as ORG/NAME[@REVISION] "
            "(remembered as entries, so every command takes them).",
            show_default=False,
        ),
    ],
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
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
            help="Cap each model's rate while this pull runs, e.g. 20MB/s, 160Mbit/s or "
            "1.5GiB/s (0 = no cap of its own); 'modelward limit' caps the total.",
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
    from modelward.cli.headstart import serve_args, serve_env, spawn_early
    from modelward.cli.repos import parse_pull_arguments
    from modelward.units import parse_rate

    setup_logging(verbose)
    try:
        rate = parse_rate(limit) if limit is not None else None
        settings = build_settings(
            catalog, cache_dir, endpoint, max_retries=max_retries, connections=connections
        )
        wanted = parse_pull_arguments(models, include, exclude)
        args, env = serve_args(catalog, cache_dir, endpoint), serve_env(max_retries, connections)
        # The service (when one is needed) starts while this command imports the rest.
        early = spawn_early(settings.home, args, env)
        from modelward.cli.pull import pull_and_report, service_for_pull, service_model_ids

        with service_for_pull(settings, args, env, err_console, early) as client:
            ids = service_model_ids(client, wanted, err_console)
            code = pull_and_report(client, ids, console, err_console, limit_bytes_per_s=rate)
    except ModelwardError as error:
        raise fail(error) from None
    raise typer.Exit(code)


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
    from modelward.cli.features import features_off, print_features_off
    from modelward.cli.status_lines import collector_paused, print_status_table
    from modelward.cli.where import STATUS_LIST, model_statuses

    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir, endpoint)
        with collector_paused():
            statuses = model_statuses(settings, models, resolve_remote=not offline)
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:  # exactly what the service's /models/status answers
        sys.stdout.write(STATUS_LIST.dump_json(statuses, indent=2).decode() + "\n")
        return
    print_status_table(statuses)
    print_features_off(features_off(settings))


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    on_demand: Annotated[
        bool,
        typer.Option(
            "--on-demand",
            help="Stop once idle (MODELWARD_ON_DEMAND_IDLE seconds); how CLI commands "
            "start a background service.",
        ),
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the HTTP service (API under /api/v1, OpenAPI at /docs)."""
    from modelward.cli.service import ServeOptions, run_service

    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir, endpoint, host=host, port=port)
        run_service(settings, console, ServeOptions(on_demand=on_demand))
    except ModelwardError as error:
        raise fail(error) from None


def demo(
    port: Annotated[int, typer.Option(help="Port of the service.")] = 8321,
    hub_port: Annotated[int, typer.Option(help="Port of the local hub (0 = any free).")] = 0,
    scale: Annotated[
        str, typer.Option(help="Size of each synthetic repo, e.g. 8MB, 2GB.", callback=check_scale)
    ] = "256MB",
    hub_rate: Annotated[
        str,
        typer.Option(
            help="Per-connection rate cap of the local hub, so progress is visible, e.g. "
            "25MB/s (0 = none)."
        ),
    ] = "25MB/s",
    limit: Annotated[
        str,
        typer.Option(
            help="Cap on the service's total download rate, so a pull can be watched, "
            "paused and resumed, e.g. 10MB/s (0 = none)."
        ),
    ] = "10MB/s",
    root: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its hub and store.")
    ] = None,
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Start the local hub and the service pointed at it, then pull the catalog (all but
    one model, left for you to pull from another shell)."""
    from modelward.cli.demo import run_demo

    setup_logging(verbose)
    try:
        run_demo(
            console,
            port=port,
            hub_port=hub_port,
            scale=scale,
            hub_rate=hub_rate,
            limit=limit,
            root=root,
            catalog=catalog,
        )
    except ModelwardError as error:
        raise fail(error) from None


hub_app = typer.Typer(
    help="The bundled local hub (synthetic Wan2.2-shaped repos).", no_args_is_help=True
)


@hub_app.command("serve")
def hub_serve(
    port: Annotated[int, typer.Option(help="Port to listen on (0 = any free).")] = 8330,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    root: Annotated[Path | None, typer.Option(help="Where generated repos are kept.")] = None,
    scale: Annotated[
        str, typer.Option(help="Size of each repo, e.g. 8MB, 2GB.", callback=check_scale)
    ] = "tiny",
    faults: Annotated[Path | None, typer.Option(help="JSON file with a fault plan.")] = None,
    gated: Annotated[
        list[str] | None,
        typer.Option(help="Gate a repo behind a token: ORG/NAME=TOKEN (repeatable)."),
    ] = None,
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
    tls: Annotated[bool, typer.Option(help="HTTPS, with a CA made for the run.")] = False,
    rtt_ms: Annotated[float, typer.Option(help="Round trip charged per connection/request.")] = 0,
    cdn_url_ttl: Annotated[
        float | None, typer.Option(help="Seconds a signed CDN URL lives (unsigned if unset).")
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option(help="resolve and /api calls allowed per window.")
    ] = None,
    rate_window: Annotated[float, typer.Option(help="Rate-limit window in seconds.")] = 60,
) -> None:
    """Serve synthetic repos over the Hub protocol, with a fault menu for tests."""
    from modelward.devhub import Manners
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
        manners=Manners(tls, rtt_ms / 1000, cdn_url_ttl, rate_limit, rate_window),
    )


def main() -> None:
    """Console-script entry point."""
    # One program name however it was started (also `python -m modelward`), so usage lines
    # and the shell completion `--install-completion` writes are for `modelward`.
    app(prog_name="modelward")
