"""The error answers each operation can give, as the OpenAPI document states them.

Every error body is :class:`ErrorPublic` (code, message, hint, retryable). Routes name the
statuses they can answer beyond the common ones with ``responses=errors(409, ...)``;
:func:`install_openapi` states the two every operation with input shares: 422 for a
request that does not match the schema (with the project's body, not FastAPI's
``HTTPValidationError``) and 400 for a JSON body that cannot be read at all; and declares
the guard's bearer scheme (FastAPI adds schemes only for its own security dependencies).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from modelward.api.guard import SECURITY_SCHEMES
from modelward.api.schemas import ErrorPublic

MEANINGS: dict[int, str] = {
    400: "The body cannot be read (code request-malformed).",
    409: "The model is busy or held: a download, repair or update of it runs, it is pinned, "
    "or it has no previous version (code store-locked, model-pinned, no-previous-version); "
    "or a feature the request needs is switched off (code feature-off).",
    422: "The request does not match the schema, or names something that cannot be used "
    "(code request-invalid, config-invalid, job-input-invalid...).",
    502: "The model's source answered wrongly (code remote-not-found, auth-required, "
    "protocol-violation...).",
    503: "The model's source cannot be reached now; try again later (code source-unavailable); "
    "or MODELWARD_HOME/tokens.json cannot be read, so a named token cannot be checked "
    "(code tokens-file-invalid).",
    507: "Not enough free disk space (code insufficient-space).",
}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorPublic"}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer ``statuses`` with an :class:`ErrorPublic`."""
    return {code: {"model": ErrorPublic, "description": MEANINGS[code]} for code in statuses}


SOURCE = errors(502, 503)
"""A route that asks the model's source (the Hub) before it answers."""


def install_openapi(app: FastAPI) -> None:
    """Make the app's OpenAPI document state the 422 and 400 answers as they are, and the
    bearer scheme the guard checks (built once, on the first call)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = _with_error_bodies(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_error_bodies(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = _error_response(422)
            if "requestBody" in operation:
                responses.setdefault("400", _error_response(400))
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_ERRORS:
        schemas.pop(name, None)  # nothing answers with them any more
    return document


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": MEANINGS[code],
        "content": {"application/json": {"schema": dict(_ERROR_REF)}},
    }
