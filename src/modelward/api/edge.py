"""Checks at the service's edge, before any route runs (pure ASGI middleware).

``HostCheck`` answers only for the names the service is reached by: loopback names, the
bound address, this machine's name when bound to every address, any IP literal, and
``allowed_hosts`` (``*`` = any). A DNS-rebinding page reaches the service under its own
domain name, so it is refused (400 ``host-not-allowed``) and cannot read the API or the
dashboard. An IP literal cannot be rebound, so it is always accepted.

``BodyLimit`` refuses a body over ``max_body_bytes`` with 413 ``request-too-large`` before
reading it: at once when ``Content-Length`` says so, else as soon as the bytes received
(a chunked body) pass the limit; no route takes more.

A refusal answered here to a mutating request (any method but GET, HEAD, OPTIONS) is
audited as ``refused`` like one a route answers: action of the route the request names
(``unknown``, with the path in the parameters, when none does), actor the valid bearer
token's name or ``anonymous``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelward.errors import HostNotAllowedError, ModelwardError, RequestTooLargeError
from modelward.settings import Settings

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTION_KEY = "x-modelward-action"  # here, not in the guard: the guard imports this module
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization`` header: None without one, "" when it is not a
    bearer one."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_loopback(host: str) -> bool:
    """True when a service bound to ``host`` is reachable from this machine only."""
    name = _bare(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """The Host names the service answers for (besides IP literals)."""
    names = set(LOOPBACK_NAMES) | {_bare(h) for h in settings.allowed_hosts}
    bound = _bare(settings.host)
    names.add(bound)
    if bound in _WILDCARDS:
        names.add(socket.gethostname().lower())
    return frozenset(names)


class HostCheck:
    """Refuse requests whose Host header names a host the service does not answer for."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.names = allowed_host_names(settings)
        self.suffixes = tuple(n[1:] for n in self.names if n.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 400."""
        if scope["type"] == "http" and not self.allows(_header(scope, b"host")):
            error = HostNotAllowedError("this service does not answer for the Host named")
            await send_error(send, error, 400)
            await audit_refusal(scope, error, 400)
            return
        await self.app(scope, receive, send)

    def allows(self, header: str | None) -> bool:
        """True for a missing Host (no browser sends none) or an allowed one."""
        if header is None or "*" in self.names:
            return True
        name = _bare(_strip_port(header))
        if name in self.names or _is_ip(name):
            return True
        return any(name.endswith(suffix) for suffix in self.suffixes)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before reading them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting ``receive``, or answer 413 at once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = self._error()
            await send_error(send, error, 413)
            await audit_refusal(scope, error, 413)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._error()
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except RequestTooLargeError as exc:
            if started:
                raise
            await send_error(send, exc, 413)

    def _error(self) -> RequestTooLargeError:
        return RequestTooLargeError(f"the request body is larger than {self.max_bytes} bytes")


async def send_error(send: Send, error: ModelwardError, status: int) -> None:
    """Answer ``error`` as the API's JSON and close the connection (the body stays unread)."""
    body = json.dumps(error.to_dict()).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def audit_refusal(scope: Scope, error: ModelwardError, status: int) -> None:
    """Record a mutating request refused here as ``refused`` (never raises: the answer is
    sent either way)."""
    if scope.get("method", "GET") in READS:
        return
    try:
        app = scope["app"]
        action, params = _route_of(app, scope)
        actor = _actor(app, scope)
        await app.state.runtime.audit.arecord(
            actor,
            action,
            outcome="refused",
            model_id=params.get("model_id") if isinstance(params.get("model_id"), str) else None,
            params=params,
            token=None if actor == "anonymous" else actor,
            status=status,
            error_code=error.code,
        )
    except Exception:
        logger.exception("cannot write the audit record of a refused %s", scope.get("path"))


def _route_of(app: Any, scope: Scope) -> tuple[str, dict[str, Any]]:
    """The audit action of the operation ``scope`` names, and its path parameters."""
    path, method = scope.get("path", ""), scope.get("method", "")
    for pattern, actions in _actions(app):
        found = pattern.match(path)
        if found and method in actions:
            return actions[method], found.groupdict()
    return "unknown", {"path": path[:500], "method": method}


def _actions(app: Any) -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """Each path of the app's OpenAPI document as a pattern, with the audit action of each
    mutating method (built once; the document states exactly what the guard records)."""
    cached: list[tuple[re.Pattern[str], dict[str, str]]] | None
    cached = getattr(app.state, "edge_actions", None)
    if cached is None:
        cached = []
        for path, operations in app.openapi().get("paths", {}).items():
            actions = {
                method.upper(): op[ACTION_KEY]
                for method, op in operations.items()
                if isinstance(op, dict) and op.get(ACTION_KEY)
            }
            if actions:
                cached.append((_pattern(path), actions))
        app.state.edge_actions = cached
    return cached


def _pattern(template: str) -> re.Pattern[str]:
    """``/models/{model_id}/pause`` as a pattern capturing ``model_id``."""
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


def _actor(app: Any, scope: Scope) -> str:
    """The name of the request's valid bearer token, else ``anonymous``."""
    token = bearer(_header(scope, b"authorization"))
    if not token:
        return "anonymous"
    try:
        principal = app.state.tokens.authenticate(token)
    except ModelwardError:
        return "anonymous"
    return str(principal.name) if principal else "anonymous"


def _header(scope: Scope, name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the HTTP server refuses a malformed length itself


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _bare(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
