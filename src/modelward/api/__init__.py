"""The HTTP service: a thin shell over the same Python calls the CLI makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelward.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` on first use: importing ``modelward.api.schemas`` (the CLI's status
    reads do) must not import FastAPI, uvicorn and every route."""
    if name == "create_app":
        from modelward.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
