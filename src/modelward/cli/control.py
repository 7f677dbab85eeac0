"""Commands that steer the service's downloads: pause, resume, cancel, priority, limit,
queue. Each makes one request to the service and prints what it answered. Downloads run
only in a service, so with none running each says plainly that nothing is downloading
(``queue`` shows the stored queue the next service continues, with the code ``/queue``
uses; ``cancel`` deletes the partial data and the queue entry here, holding the service
lock so that no service starts meanwhile; ``limit`` keeps the cap for the next service)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.table import Table

from modelward.api.schemas import CancelPublic, QueuePublic
from modelward.cli.client import ServiceClient
from modelward.cli.discovery import hold_service_lock, not_running
from modelward.cli.ops import audited, audited_here
from modelward.cli.options import CatalogOpt, JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import console, err_console, fail, print_table
from modelward.cli.where import running_service
from modelward.errors import ModelwardError, ServiceNotRunningError
from modelward.overrides import save_change, with_overrides
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.transfer import Priority
from modelward.units import format_rate, format_size, parse_rate

T = TypeVar("T")

ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]


def call_service(
    catalog: list[Path] | None,
    verbose: bool,
    request: Callable[[ServiceClient], T],
    when_none: Callable[[Settings], T] | None = None,
) -> T:
    """Make the request of the running service, or (none running) answer ``when_none``
    (None: ServiceNotRunningError); any failure becomes the CLI's error."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog)
        client = running_service(settings)
        if client is None:
            if when_none is None:
                raise not_running(f"Nothing answers for {settings.home}")
            return when_none(settings)
        with client:
            return request(client)
    except ModelwardError as error:
        raise fail(error) from None


def nothing_runs(model: str, *, ok: bool) -> Callable[[Settings], NoReturn]:
    """The answer of a control with no service: downloads run only in one."""

    def answer(settings: Settings) -> NoReturn:
        message = f"nothing is downloading: no modelward service runs for {settings.home}"
        hint = (
            f"Downloads run only in a service: 'modelward pull {model}' starts one and "
            "continues from the partial data."
        )
        if ok:
            err_console.print(f"{message} ({hint})", highlight=False)
            raise typer.Exit(0)
        raise fail(ServiceNotRunningError(message, hint=hint))

    return answer


def pause(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Pause a download in the service; its partial data is kept."""
    body = call_service(catalog, verbose, lambda s: s.pause(model), nothing_runs(model, ok=True))
    if body.changed:
        console.print(f"paused {model}; 'modelward resume {model}' continues it.")
    else:
        err_console.print(f"{model} is not downloading; nothing to pause.")


def resume(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Resume a paused or failed download from its partial data."""
    body = call_service(catalog, verbose, lambda s: s.resume(model), nothing_runs(model, ok=False))
    if body.changed:
        console.print(f"resumed {model}.")
    else:
        err_console.print(f"{model} is already downloading.")


def cancel(model: ModelArg, catalog: CatalogOpt = None, verbose: VerboseOpt = False) -> None:
    """Cancel a download and delete its partial data (verified files stay)."""
    body = call_service(catalog, verbose, lambda s: s.cancel(model), _cancel_here(model))
    freed = f"freed {format_size(body.freed_bytes)} of partial data"
    if body.stopped:
        console.print(f"cancelled {model}; {freed}.")
    elif body.freed_bytes:
        console.print(f"{model} was not downloading; {freed}.")
    else:
        err_console.print(f"{model} was not downloading and had no partial data.")


def _cancel_here(model: str) -> Callable[[Settings], CancelPublic]:
    """Cancel with no service: what the service's cancel does, in this process."""

    def answer(settings: Settings) -> CancelPublic:
        err_console.print(
            f"no modelward service runs for {settings.home}, so nothing is downloading; "
            f"{model}'s partial data and queue entry are removed here.",
            highlight=False,
        )
        lock = hold_service_lock(settings.home)  # no service starts the download meanwhile
        try:
            return asyncio.run(_cancel_stored(settings, model))
        finally:
            lock.release()

    return answer


async def _cancel_stored(settings: Settings, model: str) -> CancelPublic:
    async with Runtime(settings) as rt, audited(rt, "cancel", model_id=model):
        rt.catalog.get(model)  # an unknown id fails before the queue is read
        await rt.downloader.restore_queue(start=False)  # its entry goes too
        return CancelPublic.model_validate(await rt.downloader.cancel(model))


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
        catalog, verbose, lambda s: s.set_priority(model, level), nothing_runs(model, ok=False)
    )
    console.print(f"{model}: priority {body.priority.value}.")


def limit(
    rate: Annotated[
        str | None,
        typer.Argument(
            help="Cap such as 20MB/s, 160Mbit/s, 1.5GiB/s or 0 for unlimited "
            "(default: show the cap).",
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
    try:  # a rate without a unit is refused before the service is asked anything
        wanted = None if rate is None else parse_rate(rate)
    except ModelwardError as error:
        raise fail(error) from None

    def request(service: ServiceClient) -> int:
        if wanted is None:
            return service.bandwidth().limit_bytes_per_s
        if model is not None:
            return service.set_model_bandwidth(model, wanted).limit_bytes_per_s
        return service.set_bandwidth(wanted).limit_bytes_per_s

    def keep(settings: Settings) -> int:
        if model is not None:
            raise not_running(
                f"A model's own cap lives in the service, and none runs for {settings.home}. "
                f"'modelward pull {model} --limit RATE' starts one with it"
            )
        if wanted is None:
            return _kept_cap(settings)
        with audited_here(settings, "set-bandwidth", params={"limit_bytes_per_s": wanted}):
            save_change(settings, {"bandwidth_limit_bytes_per_s": wanted})
        err_console.print(
            f"no modelward service runs for {settings.home}; the cap is kept in its "
            "settings.json for the next service.",
            highlight=False,
        )
        return wanted

    cap = call_service(catalog, verbose, request, keep)
    scope = f"bandwidth limit of {model}" if model else "bandwidth limit"
    console.print(f"{scope}: {format_rate(cap)}")


def _kept_cap(settings: Settings) -> int:
    """The cap the next service starts with (environment, then settings.json)."""
    return with_overrides(settings).bandwidth_limit_bytes_per_s


def queue(
    catalog: CatalogOpt = None, as_json: JsonOpt = False, verbose: VerboseOpt = False
) -> None:
    """Show the service's download queue, in the order it gives out connections (with no
    service: the stored queue the next one continues)."""
    body = call_service(catalog, verbose, lambda s: s.queue(), _stored_queue)
    if as_json:
        payload = [e.model_dump(mode="json") for e in body.data]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not body.data:
        console.print("the download queue is empty.")
        return
    table = Table(title="download queue")
    for column in ("#", "model", "priority", "status"):
        table.add_column(column)
    for entry in body.data:
        table.add_row(str(entry.position), entry.model_id, entry.priority.value, entry.status.value)
    print_table(table)


def _stored_queue(settings: Settings) -> QueuePublic:
    """With no service: the queue as stored, which the next service continues (what ran
    then shows as queued), with the bytes on disk."""
    err_console.print(
        f"no modelward service runs for {settings.home}, so nothing is downloading; "
        "the next service continues this queue.",
        highlight=False,
    )
    return asyncio.run(_stored_entries(settings))


async def _stored_entries(settings: Settings) -> QueuePublic:
    # Imported here: a route module brings FastAPI, which no other command needs.
    from modelward.api.routes.queue import get_queue

    async with Runtime(settings) as rt:
        await rt.downloader.restore_queue(start=False)
        return await get_queue(rt)


COMMANDS: tuple[Callable[..., None], ...] = (pause, resume, cancel, priority, limit, queue)
