"""Typed dependencies of the routes: the runtime (tokens and scopes: ``api/guard.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelward.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The runtime the app's lifespan built."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
