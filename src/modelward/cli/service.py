"""Running the service in the foreground, for ``serve`` and ``demo``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from rich.console import Console

from modelward.cli.client import ServiceClient
from modelward.cli.discovery import (
    ServiceInfo,
    client_url,
    find_service,
    hold_service_lock,
    remove_service_info,
    write_service_info,
)
from modelward.errors import (
    ConfigError,
    ServiceAlreadyRunningError,
    ServiceNotRunningError,
    listen_error,
)
from modelward.runtime import Runtime
from modelward.settings import Settings

logger = logging.getLogger(__name__)

AfterStart = Callable[[Runtime, str], Awaitable[None]]

# Open event streams never end on their own; after this long a stopping service cuts them.
GRACEFUL_SHUTDOWN_S = 3


class _Server(uvicorn.Server):
    """uvicorn's server, except that a stop signal ends ``serve()`` normally.

    uvicorn re-raises the signal once it has stopped, which for SIGTERM kills the process
    before our cleanup (the discovery file, pausing downloads) can run.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How a service runs besides its settings."""

    after_start: AfterStart | None = None
    """Runs once the port is open; its failure stops the service."""
    on_demand: bool = False
    """Started by a CLI command: stops by itself after ``on_demand_idle_s`` without work."""
    register_in: tuple[Path, ...] = ()
    """Other homes whose ``service.json`` should point here too (the demo's default home)."""


def run_service(settings: Settings, console: Console, options: ServeOptions | None = None) -> None:
    """Serve the API until interrupted (or, on demand, until idle).

    While it listens, ``MODELWARD_HOME/service.json`` tells CLI commands where it is; for
    its whole life it holds the home's service lock, so no second service can start.
    """
    lock = hold_service_lock(settings.home)
    try:
        _refuse_a_second_service(settings)
        settings, generated = settings.ensure_api_token()
        asyncio.run(_serve(settings, console, generated, options or ServeOptions()))
    finally:
        lock.release()


def _refuse_a_second_service(settings: Settings) -> None:
    """One service owns a home's downloads: a second one would fetch beside it. (The lock
    covers services of this home; this covers one registered here from another home, as
    the demo registers in the default one.)"""
    try:
        info = find_service(settings.home)
        with ServiceClient(info.url, None, timeout_s=5) as client:
            client.healthz()
    except ServiceNotRunningError:
        return
    raise ServiceAlreadyRunningError(
        f"a modelward service already runs for {settings.home} at {info.url} (pid {info.pid})"
    )


async def _serve(
    settings: Settings, console: Console, generated: bool, options: ServeOptions
) -> None:
    # Imported here: the app brings FastAPI and every route, which only serving needs
    # (this module is itself imported only by `serve` and `demo`).
    from modelward.api.app import create_app

    listening = _listen(settings.host, settings.port)
    runtime = Runtime(settings)
    app = create_app(settings, runtime)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    registered: list[tuple[Path, ServiceInfo]] = []
    extras: list[asyncio.Task[None]] = []
    try:
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if serving.done():
            await serving
            return
        _freeze_what_lives_on()
        port = _bound_port(server, settings.port)
        url = client_url(settings.host, port)
        runtime.fleet.serving_at(port)  # the node's address, as other nodes reach it
        for home in (settings.home, *options.register_in):
            info = write_service_info(home, url, serves=settings.home, on_demand=options.on_demand)
            registered.append((home, info))
        _announce(console, settings, url, generated)
        if options.on_demand:
            extras.append(asyncio.create_task(_stop_when_idle(runtime, server, settings)))
        if options.after_start is not None:
            extra = asyncio.create_task(_run_after_start(options.after_start, runtime, url))
            extras.append(extra)
            done, _ = await asyncio.wait({serving, extra}, return_when=asyncio.FIRST_COMPLETED)
            if extra in done:
                extra.result()  # its failure stops the service
        await serving
    finally:
        for home, info in registered:
            remove_service_info(home, info)
        for extra in extras:
            if not extra.done():
                extra.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await extra
        if not serving.done():
            server.should_exit = True
            await serving
        listening.close()
        await runtime.aclose()


def _freeze_what_lives_on() -> None:
    """Keep what start-up built (modules, schemas, the app, the runtime: it lives as long
    as the service) out of the cyclic collector's full passes. Each pass scanned it all,
    a 60 ms pause every few hundred requests: the p99 of every route (docs/BENCHMARKS.md,
    "Status reads")."""
    gc.collect()
    gc.freeze()


def _listen(host: str, port: int) -> socket.socket:
    """The service's socket, bound before anything starts: a taken port is then one clear
    error, not uvicorn exiting from inside its task."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on {host!r}: {exc.strerror}",
            hint="Give an address of this machine with --host, e.g. 127.0.0.1.",
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise listen_error(host, port, exc) from None
    return sock


async def _run_after_start(after_start: AfterStart, runtime: Runtime, url: str) -> None:
    await after_start(runtime, url)


async def _stop_when_idle(runtime: Runtime, server: uvicorn.Server, settings: Settings) -> None:
    """End a service started on demand once it has had no work for ``on_demand_idle_s``."""
    idle_s = settings.on_demand_idle_s
    last_busy = time.monotonic()
    while True:
        await asyncio.sleep(min(1.0, max(idle_s / 4, 0.05)))
        if await is_busy(runtime):
            last_busy = time.monotonic()
        elif time.monotonic() - last_busy >= idle_s:
            logger.warning("no work for %.0f s; the on-demand service stops", idle_s)
            server.should_exit = True
            return


async def is_busy(runtime: Runtime) -> bool:
    """Whether the service has work: a download queued or running, a repair, or a
    generation request waiting for its model."""
    if any(job.running for job in runtime.downloader.queue.jobs()) or runtime.health.repairing:
        return True
    return bool(await runtime.requests.pending())


def _announce(console: Console, settings: Settings, url: str, generated: bool) -> None:
    from modelward.api.routes.hubproto import HUB_MOUNT  # imported with the app already

    console.print(f"[bold]modelward[/] service at [link={url}]{url}[/] (API docs: {url}/docs)")
    console.print(f"Hub endpoint for plain clients (read-only): HF_ENDPOINT={url}{HUB_MOUNT}")
    if generated:
        console.print(
            f"API token (new, saved in {settings.api_token_file}): [bold]{settings.api_token}[/]"
        )
    else:
        console.print(f"API token: from MODELWARD_TOKEN or {settings.api_token_file}")


def _bound_port(server: uvicorn.Server, fallback: int) -> int:
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    return fallback
