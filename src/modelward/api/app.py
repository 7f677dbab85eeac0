"""The service: ``create_app(settings)`` builds the FastAPI app and its lifespan."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelward._version import __version__
from modelward.api import metrics as metrics_routes
from modelward.api.documented import install_error_docs
from modelward.api.edge import BodyLimit, HostCheck, is_loopback
from modelward.api.guard import PUBLIC, install_security_scheme
from modelward.api.metrics import HttpMetricsMiddleware
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
from modelward.api.routes import audit as audit_routes
from modelward.api.routes import settings as settings_routes
from modelward.api.routes import tokens as token_routes
from modelward.api.schemas import ErrorPublic, HealthzPublic
from modelward.api.stream import StreamTiming
from modelward.api.web import mount_api_docs, mount_dashboard
from modelward.errors import (
    AuthRequiredError,
    CatalogError,
    ConfigError,
    CorruptEntryError,
    FeatureOffError,
    ForbiddenError,
    HostNotAllowedError,
    InsufficientSpaceError,
    ModelPinnedError,
    ModelwardError,
    NoAlternativeError,
    NoPreviousVersionError,
    PruneRefusedError,
    RemoteNotFoundError,
    RequestTooLargeError,
    SourceError,
    SourceUnavailableError,
    StoreLockedError,
    TransferError,
    UnauthorizedError,
    UnknownModelError,
    UnknownRequestError,
    UnknownTokenError,
    UnsafeFileError,
)
from modelward.ops.tokens import TokenStore
from modelward.runtime import Runtime
from modelward.settings import Settings

logger = logging.getLogger(__name__)

# Most specific first: the first matching class decides the HTTP status.
_STATUS_BY_ERROR: tuple[tuple[type[ModelwardError], int], ...] = (
    (HostNotAllowedError, 400),
    (ForbiddenError, 403),
    (RequestTooLargeError, 413),
    (UnauthorizedError, 401),
    (UnknownModelError, 404),
    (UnknownRequestError, 404),
    (UnknownTokenError, 404),
    (NoAlternativeError, 404),
    (FeatureOffError, 409),
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
    (PruneRefusedError, 409),
    (CorruptEntryError, 409),
    (UnsafeFileError, 422),
    (TransferError, 502),
)


_HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("request-malformed", "Send the body as JSON in UTF-8 (Content-Type: application/json)."),
    404: ("not-found", "No such route: see /docs for the API's routes."),
    405: ("method-not-allowed", "See /docs for the methods this route takes."),
}


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
        app.state.runtime.audit.prune()  # records past the retention go at each start
        _warn_if_exposed(settings)
        await app.state.runtime.restore()  # the queue a previous run left continues
        await app.state.runtime.start_background()  # health checks, update checks, disk watch
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
    app.state.tokens = TokenStore(settings.home, settings.api_token)
    app.add_middleware(HttpMetricsMiddleware)  # innermost: sees the matched route
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HostCheck, settings=settings)  # outermost: before any body is read
    install_security_scheme(app)
    install_error_docs(app)

    @app.exception_handler(ModelwardError)
    async def on_modelward_error(request: Request, exc: ModelwardError) -> JSONResponse:
        code = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse(exc.to_dict(), status_code=code, headers=headers)

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

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's own refusals (an unreadable body, no such route or method) get the
        # project's code, message and hint like every other error.
        code, hint = _HTTP_ERRORS.get(exc.status_code, ("http-error", "Check /docs."))
        body = ErrorPublic(code=code, message=str(exc.detail), hint=hint, retryable=False)
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)

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
    )
    for module in (*routers, events):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(metrics_routes.router)  # GET /metrics, where Prometheus looks
    mount_api_docs(app)
    mount_dashboard(app)  # last: its catch-all must not shadow an API route
    return app


def _warn_if_exposed(settings: Settings) -> None:
    """Say so when the service listens beyond this machine: reads then need a token, and
    tokens cross the network in clear unless TLS is put in front."""
    if not is_loopback(settings.host):
        logger.warning(
            "listening on %s, not loopback: every request needs a token (reads: scope read) "
            "and tokens travel in clear text unless a TLS proxy is in front",
            settings.host,
        )
