"""The service: ``create_app(settings)`` builds the FastAPI app and its lifespan."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from modelward._version import __version__
from modelward.api.routes import (
    analytics,
    availability,
    bandwidth,
    downloads,
    events,
    health,
    models,
    queue,
    storage,
    updates,
)
from modelward.api.routes import settings as settings_routes
from modelward.api.schemas import ErrorPublic, HealthzPublic
from modelward.api.stream import StreamTiming
from modelward.api.web import mount_api_docs, mount_dashboard
from modelward.errors import (
    AuthRequiredError,
    CatalogError,
    ConfigError,
    InsufficientSpaceError,
    ModelPinnedError,
    ModelwardError,
    NoAlternativeError,
    NoPreviousVersionError,
    RemoteNotFoundError,
    SourceError,
    SourceUnavailableError,
    StoreLockedError,
    UnauthorizedError,
    UnknownModelError,
    UnknownRequestError,
)
from modelward.runtime import Runtime
from modelward.settings import Settings

logger = logging.getLogger(__name__)

# Most specific first: the first matching class decides the HTTP status.
_STATUS_BY_ERROR: tuple[tuple[type[ModelwardError], int], ...] = (
    (UnauthorizedError, 401),
    (UnknownModelError, 404),
    (UnknownRequestError, 404),
    (NoAlternativeError, 404),
    (CatalogError, 422),
    (ConfigError, 422),
    (AuthRequiredError, 502),
    (RemoteNotFoundError, 502),
    (SourceUnavailableError, 503),
    (SourceError, 502),
    (InsufficientSpaceError, 507),
    (StoreLockedError, 409),
    (ModelPinnedError, 409),
    (NoPreviousVersionError, 409),
)


def status_for(error: ModelwardError) -> int:
    """The HTTP status that carries ``error``."""
    for cls, code in _STATUS_BY_ERROR:
        if isinstance(error, cls):
            return code
    return 500


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
        await app.state.runtime.restore()  # the queue a previous run left continues
        app.state.runtime.start_background()  # health checks, update checks, disk watch
        try:
            yield
        finally:
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

    @app.exception_handler(ModelwardError)
    async def on_modelward_error(request: Request, exc: ModelwardError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=status_for(exc))

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        body = ErrorPublic(
            code="internal-error",
            message=f"unexpected {type(exc).__name__}",
            hint="This is a bug in modelward; the service log has the details.",
            retryable=False,
        )
        return JSONResponse(body.model_dump(), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        body = ErrorPublic(
            code="request-invalid",
            message=f"{where}: {first.get('msg')}",
            hint="Check the request against /docs.",
            retryable=False,
        )
        return JSONResponse(body.model_dump(), status_code=422)

    @app.get("/healthz", response_model=HealthzPublic, tags=["service"])
    def healthz() -> HealthzPublic:
        """The service is up."""
        return HealthzPublic(
            status="ok",
            version=__version__,
            offline=settings.offline,
            pid=os.getpid(),
            home=str(settings.home),
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
    )
    for module in (*routers, events):
        app.include_router(module.router, prefix="/api/v1")
    mount_api_docs(app)
    mount_dashboard(app)  # last: its catch-all must not shadow an API route
    return app
