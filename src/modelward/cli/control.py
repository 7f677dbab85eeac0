"""Commands that steer the running service's downloads: pause, resume, cancel, priority,
limit, queue. Each makes one request to the service and prints what it answered."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.table import Table

from modelward.cli.client import ServiceClient, ServiceRequestError
from modelward.cli.options import CatalogOpt, JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import console, err_console, fail
from modelward.cli.rates import format_rate, parse_rate
from modelward.errors import ModelwardError
from modelward.transfer import Priority
from modelward.transfer.progress import MB as MIB

T = TypeVar("T")

ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]


def call_service(
    catalog: list[Path] | None, verbose: bool, request: Callable[[ServiceClient], T]
) -> T:
    """Find the service, make the request, and turn any failure into the CLI's error."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog)
        with ServiceClient.discover(settings) as service:
            return request(service)
    except (ModelwardError, ServiceRequestError) as error:
        raise fail(error) from None


def _model_path(model: str, action: str) -> str:
    return f"/api/v1/models/{quote(model, safe='')}/{action}"


def pause(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Pause a download in the running service; its partial data is kept."""
    body = call_service(catalog, verbose, lambda s: s.post(_model_path(model, "pause")))
    if body["changed"]:
        console.print(f"paused {model}; 'modelward resume {model}' continues it.")
    else:
        err_console.print(f"{model} is not downloading; nothing to pause.")


def resume(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Resume a paused or failed download from its partial data."""
    body = call_service(catalog, verbose, lambda s: s.post(_model_path(model, "resume")))
    if body["changed"]:
        console.print(f"resumed {model}.")
    else:
        err_console.print(f"{model} is already downloading.")


def cancel(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Cancel a download and delete its partial data (verified files stay)."""
    body = call_service(catalog, verbose, lambda s: s.post(_model_path(model, "cancel")))
    freed = f"freed {body['freed_bytes'] / MIB:,.1f} MiB of partial data"
    if body["stopped"]:
        console.print(f"cancelled {model}; {freed}.")
    elif body["freed_bytes"]:
        console.print(f"{model} was not downloading; {freed}.")
    else:
        err_console.print(f"{model} was not downloading and had no partial data.")


def priority(
    model: ModelArg,
    level: Annotated[
        Priority, typer.Argument(help="critical, high, normal or low.", case_sensitive=False)
    ],
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Set how urgently a model is wanted; higher priorities get connections first."""
    body = call_service(
        catalog,
        verbose,
        lambda s: s.put(_model_path(model, "priority"), {"priority": level.value}),
    )
    console.print(f"{model}: priority {body['priority']}.")


def limit(
    rate: Annotated[
        str | None,
        typer.Argument(
            help="Cap such as 20MB/s, 50MiB/s or 0 for unlimited (default: show the cap).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Cap only this model's downloads.")
    ] = None,
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Set (or show) the bandwidth cap of the running service; takes effect at once."""

    def request(service: ServiceClient) -> Any:
        if rate is None:
            return service.get("/api/v1/bandwidth")
        body = {"limit_mbps": parse_rate(rate) / MIB}
        if model is not None:
            return service.put(_model_path(model, "bandwidth"), body)
        return service.put("/api/v1/bandwidth", body)

    body = call_service(catalog, verbose, request)
    scope = f"bandwidth limit of {model}" if model else "bandwidth limit"
    console.print(f"{scope}: {format_rate(float(body['limit_mbps']))}")


def queue(
    catalog: CatalogOpt = None, as_json: JsonOpt = False, verbose: VerboseOpt = False
) -> None:
    """Show the running service's download queue, in the order it gives out connections."""
    body = call_service(catalog, verbose, lambda s: s.get("/api/v1/queue"))
    if as_json:
        sys.stdout.write(json.dumps(body["data"], indent=2) + "\n")
        return
    if not body["data"]:
        console.print("the download queue is empty.")
        return
    table = Table(title="download queue")
    for column in ("#", "model", "priority", "status"):
        table.add_column(column)
    for entry in body["data"]:
        table.add_row(str(entry["position"]), entry["model_id"], entry["priority"], entry["status"])
    console.print(table)


COMMANDS: tuple[Callable[..., None], ...] = (pause, resume, cancel, priority, limit, queue)
