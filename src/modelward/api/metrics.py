"""``GET /metrics`` (Prometheus text format) and the middleware that times every request.

The middleware is plain ASGI (no buffering of bodies, so streams and the event stream pass
through untouched) and labels each request with the matched route's path template, so
``/api/v1/models/{model_id}/status`` is one series however many models are asked about.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelward.api.deps import RuntimeDep
from modelward.api.guard import GuardedRoute

# A GET: scope read, open on loopback (api/guard.py), like every other read.
router = APIRouter(tags=["service"], route_class=GuardedRoute)

UNMATCHED = "unmatched"
"""The route label of a request no route matched (404s of any path: one series)."""


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """The service's metrics in the Prometheus text exposition format."""
    body = await runtime.metrics.render()
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Observes each HTTP request's duration by route template, method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]  # an exception before the response starts is a 500 to the client

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _observe(scope, status[0], time.perf_counter() - started)


def _observe(scope: Scope, status: int, seconds: float) -> None:
    runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
    if runtime is None:
        return  # before the lifespan built the runtime, or after it closed
    runtime.metrics.observe_http(route_template(scope), scope.get("method", ""), status, seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template with its router's prefix (``/api/v1/...``).

    FastAPI puts the route as declared in ``scope["route"]``, without the prefix its router
    was included under; the prefix is the part of the path before what the route matched."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    template = str(getattr(route, "path_format", None) or getattr(route, "path", ""))
    regex = getattr(route, "path_regex", None)
    path = str(scope.get("path", ""))
    if regex is not None:
        for start in (i for i, char in enumerate(path) if char == "/"):
            if regex.match(path[start:]):
                return path[:start] + template
    return template or UNMATCHED
