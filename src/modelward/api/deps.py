"""Typed dependencies of the routes: the runtime and the bearer-token check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from modelward.errors import UnauthorizedError
from modelward.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The runtime the app's lifespan built."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_token(request: Request, runtime: RuntimeDep) -> None:
    """Refuse a mutating request unless it carries the service's bearer token."""
    expected = runtime.settings.api_token or ""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    # compare_digest keeps the comparison time independent of how much of the token matched.
    if (
        not expected
        or scheme.lower() != "bearer"
        or not secrets.compare_digest(given.strip().encode(), expected.encode())
    ):
        raise UnauthorizedError("this action needs the service's bearer token")


TokenDep = Depends(require_token)
