"""Running the service in the foreground, for ``serve`` and ``demo``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from rich.console import Console

from modelward.api import create_app
from modelward.cli.discovery import ServiceInfo, client_url, remove_service_info, write_service_info
from modelward.runtime import Runtime
from modelward.settings import Settings

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


def run_service(
    settings: Settings, console: Console, after_start: AfterStart | None = None
) -> None:
    """Serve the API until interrupted; ``after_start`` runs once the port is open.

    While it listens, ``MODELWARD_HOME/service.json`` tells CLI commands where it is.
    """
    settings, generated = settings.ensure_api_token()
    asyncio.run(_serve(settings, console, generated, after_start))


async def _serve(
    settings: Settings, console: Console, generated: bool, after_start: AfterStart | None
) -> None:
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
    serving = asyncio.create_task(server.serve())
    info: ServiceInfo | None = None
    extra: asyncio.Task[None] | None = None
    try:
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if serving.done():
            await serving
            return
        url = client_url(settings.host, _bound_port(server, settings.port))
        info = write_service_info(settings.home, url)
        _announce(console, settings, url, generated)
        if after_start is not None:
            extra = asyncio.create_task(_run_after_start(after_start, runtime, url))
            done, _ = await asyncio.wait({serving, extra}, return_when=asyncio.FIRST_COMPLETED)
            if extra in done:
                extra.result()  # its failure stops the service
        await serving
    finally:
        if info is not None:
            remove_service_info(settings.home, info)
        if extra is not None and not extra.done():
            extra.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await extra
        if not serving.done():
            server.should_exit = True
            await serving
        await runtime.aclose()


async def _run_after_start(after_start: AfterStart, runtime: Runtime, url: str) -> None:
    await after_start(runtime, url)


def _announce(console: Console, settings: Settings, url: str, generated: bool) -> None:
    console.print(f"[bold]modelward[/] service at [link={url}]{url}[/] (API docs: {url}/docs)")
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
