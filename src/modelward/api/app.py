"""The service: ``create_app(settings)`` builds the FastAPI app and its lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelward._version import __version__
from modelward.api import metrics as metrics_routes
from modelward.api.documented import install_openapi
from modelward.api.edge import BodyLimit, HostCheck, is_loopback
from modelward.api.errors import install_error_handlers
from modelward.api.guard import PUBLIC
from modelward.api.metrics import HttpMetricsMiddleware
from modelward.api.routes import (
    analytics,
    availability,
    bandwidth,
    downloads,
    events,
    fleet,
    health,
    hubproto,
    models,
    queue,
    storage,
    updates,
)
from modelward.api.routes import audit as audit_routes
from modelward.api.routes import settings as settings_routes
from modelward.api.routes import tokens as token_routes
from modelward.api.schemas import ErrorPublic, HealthzPublic
from modelward.api.stream import StreamTiming
from modelward.api.web import mount_api_docs, mount_dashboard
from modelward.ops.tokens import TokenStore
from modelward.runtime import Runtime
from modelward.settings import Settings

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    stream_timing: StreamTiming | None = None,
) -> FastAPI:
    """Build the service for ``settings`` (a ready ``runtime`` may be passed in by tests).

    ``stream_timing`` sets the event stream's progress rate and keep-alive interval.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime(settings)
        app.state.runtime.metrics  # noqa: B018  built now: counting starts as the service does
        await app.state.runtime.audit.aprune()  # records past the retention go at each start...
        _warn_if_exposed(settings)
        await app.state.runtime.restore()  # the queue a previous run left continues
        await app.state.runtime.start_background()  # health checks, update checks, disk watch
        pruning = asyncio.create_task(prune_daily(app.state.runtime), name="retention")
        try:
            yield
        finally:
            pruning.cancel()
            if runtime is None:
                await app.state.runtime.aclose()

    app = FastAPI(
        title="modelward",
        version=__version__,
        summary="Keeps large AI model weights available on this machine.",
        lifespan=lifespan,
        responses={401: {"model": ErrorPublic}, 404: {"model": ErrorPublic}},
        docs_url=None,  # FastAPI's pages load from a CDN; mount_api_docs serves local copies
        redoc_url=None,
    )
    app.state.stream_timing = stream_timing or StreamTiming()
    app.state.tokens = TokenStore(settings.home, settings.api_token)
    app.add_middleware(HttpMetricsMiddleware)  # innermost: sees the matched route
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HostCheck, settings=settings)  # outermost: before any body is read
    install_openapi(app)
    install_error_handlers(app)

    @app.get("/healthz", response_model=HealthzPublic, tags=["service"], openapi_extra=PUBLIC)
    def healthz() -> HealthzPublic:
        """The service is up (and which enhancements are switched off now)."""
        live: Runtime | None = getattr(app.state, "runtime", None)
        return HealthzPublic(
            status="ok",
            version=__version__,
            offline=settings.offline,
            pid=os.getpid(),
            home=str(settings.home),
            features_off=(live.settings if live else settings).features_off,
        )

    routers = (
        models,
        downloads,
        queue,
        bandwidth,
        health,
        availability,
        storage,
        updates,
        analytics,
        settings_routes,
        token_routes,
        audit_routes,
        fleet,
    )
    for module in (*routers, events):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(metrics_routes.router)  # GET /metrics, where Prometheus looks
    app.include_router(hubproto.router)  # /hub: the store over the Hub protocol
    mount_api_docs(app)
    mount_dashboard(app)  # last: its catch-all must not shadow an API route
    return app


PRUNE_EVERY_S = 86_400.0
"""Records past the retention go at each start and then daily while the service runs."""


async def prune_daily(runtime: Runtime, every_s: float = PRUNE_EVERY_S) -> None:
    """...and every ``every_s`` after it, until cancelled: the retention of the audit log,
    download outcomes and fallback decisions holds however long the service runs."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await runtime.audit.aprune()
        except Exception:  # a locked or full database: the next round tries again
            logger.exception("cannot remove the records past the retention")


def _warn_if_exposed(settings: Settings) -> None:
    """Say so when the service listens beyond this machine: reads then need a token, and
    tokens cross the network in clear unless TLS is put in front."""
    if not is_loopback(settings.host):
        logger.warning(
            "listening on %s, not loopback: every request needs a token (reads: scope read) "
            "and tokens travel in clear text unless a TLS proxy is in front",
            settings.host,
        )
