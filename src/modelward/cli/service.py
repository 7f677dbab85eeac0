"""Running the service in the foreground, for ``serve`` and ``demo``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn
from rich.console import Console

from modelward.api import create_app
from modelward.runtime import Runtime
from modelward.settings import Settings

AfterStart = Callable[[Runtime, str], Awaitable[None]]


def run_service(
    settings: Settings, console: Console, after_start: AfterStart | None = None
) -> None:
    """Serve the API until interrupted; ``after_start`` runs once the port is open."""
    settings, generated = settings.ensure_api_token()
    asyncio.run(_serve(settings, console, generated, after_start))


async def _serve(
    settings: Settings, console: Console, generated: bool, after_start: AfterStart | None
) -> None:
    runtime = Runtime(settings)
    app = create_app(settings, runtime)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if task.done():
            await task
            return
        url = f"http://{settings.host}:{_bound_port(server, settings.port)}"
        console.print(f"[bold]modelward[/] service at [link={url}]{url}[/] (API docs: {url}/docs)")
        if generated:
            console.print(
                f"API token (new, saved in {settings.api_token_file}): "
                f"[bold]{settings.api_token}[/]"
            )
        else:
            console.print(f"API token: from MODELWARD_TOKEN or {settings.api_token_file}")
        if after_start is not None:
            await after_start(runtime, url)
        await task
    finally:
        await runtime.aclose()


def _bound_port(server: uvicorn.Server, fallback: int) -> int:
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    return fallback
