"""How errors become HTTP answers: the status of each error class, the project's body for
Starlette's own refusals, and the app's exception handlers (``install_error_handlers``).

Its own module so that the guard, the edge middleware and the CLI can map an error to its
status without importing the app (which imports every route module).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelward.api.schemas import ErrorPublic
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
    NotInStoreError,
    PruneRefusedError,
    RemoteNotFoundError,
    RequestTooLargeError,
    SourceError,
    SourceUnavailableError,
    StoreLockedError,
    TokenFileError,
    TransferError,
    UnauthorizedError,
    UnknownModelError,
    UnknownRequestError,
    UnknownTokenError,
    UnsafeFileError,
)

logger = logging.getLogger(__name__)

# Most specific first: the first matching class decides the HTTP status.
STATUS_BY_ERROR: tuple[tuple[type[ModelwardError], int], ...] = (
    (HostNotAllowedError, 400),
    (ForbiddenError, 403),
    (RequestTooLargeError, 413),
    (UnauthorizedError, 401),
    (TokenFileError, 503),
    (UnknownModelError, 404),
    (UnknownRequestError, 404),
    (UnknownTokenError, 404),
    (NoAlternativeError, 404),
    (NotInStoreError, 404),
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

HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("request-malformed", "Send the body as JSON in UTF-8 (Content-Type: application/json)."),
    404: ("not-found", "No such route: see /docs for the API's routes."),
    405: ("method-not-allowed", "See /docs for the methods this route takes."),
}
"""The code and hint of each status Starlette answers by itself."""

_OTHER_HTTP_ERROR = ("http-error", "Check /docs.")


def status_for(error: ModelwardError) -> int:
    """The HTTP status that carries ``error``."""
    for cls, code in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return code
    return 500


def http_error_code(status: int) -> str:
    """The project's code for a refusal Starlette answers itself with ``status``."""
    return HTTP_ERRORS.get(status, _OTHER_HTTP_ERROR)[0]


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the project's ``{code, message, hint, retryable}`` body."""
    app.add_exception_handler(ModelwardError, _on_modelward_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RecursionError, _on_too_deep)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected_error)


async def _on_modelward_error(request: Request, exc: ModelwardError) -> JSONResponse:
    code = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return JSONResponse(exc.to_dict(), status_code=code, headers=headers)


async def _on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return _refusal(
        500,
        "internal-error",
        f"unexpected {type(exc).__name__}",
        "This is a bug in modelward; the service log has the details.",
    )


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return _refusal(
        422, "request-invalid", f"{where}: {first.get('msg')}", "Check the request against /docs."
    )


async def _on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
    # Starlette's own refusals (an unreadable body, no such route or method) get the
    # project's code, message and hint like every other error.
    code, hint = HTTP_ERRORS.get(exc.status_code, _OTHER_HTTP_ERROR)
    return _refusal(exc.status_code, code, str(exc.detail), hint, exc.headers)


async def _on_too_deep(request: Request, exc: RecursionError) -> JSONResponse:
    # A body nested thousands deep makes the JSON parser recurse past Python's limit.
    code, hint = HTTP_ERRORS[400]
    return _refusal(400, code, "the body is nested too deeply to read", hint)


def _refusal(
    status: int, code: str, message: str, hint: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The project's error body for what no ModelwardError describes (never retryable)."""
    body = ErrorPublic(code=code, message=message, hint=hint, retryable=False)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)
