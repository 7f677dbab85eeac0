"""One path for every API call: scope check, then the route, then one audit record.

Every router uses ``GuardedRoute``. A route declares the scope it needs with
``openapi_extra=access(...)`` (``OPERATE``, ``ADMIN``); undeclared, a GET needs ``read``
and anything else ``admin`` (closed by default). The scope is published in the OpenAPI
document as ``x-modelward-scope`` beside the operation's ``security``.

- ``public``: anyone (``/healthz``).
- ``read``: open on loopback; with a ``read`` token at least when the service is bound to
  another address.
- ``operate`` / ``admin``: a token of that scope or higher (401 without a valid token,
  403 ``forbidden`` with one whose scope is too low).

Each mutating call (any method but GET) leaves exactly one audit record, whatever its end:
actor (the ``X-Modelward-Actor`` header when it names ``cli:<user>`` and the request carries
the service's own token, which only the local CLI reads; else the token's name, or
``anonymous``), action (``x-modelward-action``, by default the route function's name in kebab-case),
model, parameters (path, query and JSON body; secrets redacted by the audit log), outcome
(ok; refused for 4xx; failed for 5xx), HTTP status and error code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from modelward.api.edge import ACTION_KEY, READS, bearer, is_loopback
from modelward.api.errors import http_error_code, status_for
from modelward.api.schemas import ErrorPublic
from modelward.errors import ForbiddenError, ModelwardError, UnauthorizedError
from modelward.ops.audit import Outcome
from modelward.ops.tokens import SERVICE, Principal, TokenStore, allows

logger = logging.getLogger(__name__)

Access = Literal["public", "read", "operate", "admin"]
SCOPE_KEY = "x-modelward-scope"
ACTOR_HEADER = "X-Modelward-Actor"
BEARER_SCHEME = "bearer"
SECURITY_SCHEMES = {  # stated in the OpenAPI document by api/documented.py
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "A modelward token: the service's own (admin) or one made with "
        "`modelward token create NAME --scope read|operate|admin`.",
    }
}
_GUARDED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "No valid bearer token."},
    403: {"model": ErrorPublic, "description": "The token's scope does not cover this."},
    503: {
        "model": ErrorPublic,
        "description": "MODELWARD_HOME/tokens.json cannot be read, so a named token cannot "
        "be checked (code tokens-file-invalid); the service's own token still works.",
    },
}
_MUTATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorPublic, "description": "The request body is over the limit."},
}
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def access(scope: Access, *, action: str | None = None) -> dict[str, Any]:
    """The ``openapi_extra`` declaring a route's scope (and the action its audit records
    name, when not the function's name)."""
    extra: dict[str, Any] = {SCOPE_KEY: scope}
    if action:
        extra[ACTION_KEY] = action
    return extra


PUBLIC = {**access("public"), "security": []}
OPERATE = access("operate")
ADMIN = access("admin")


class GuardedRoute(APIRoute):
    """An API route that checks its scope and records its mutations (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        self.mutating = not methods <= READS
        extra = dict(kwargs.get("openapi_extra") or {})
        scope: Access = extra.setdefault(SCOPE_KEY, "admin" if self.mutating else "read")
        if self.mutating:
            name = kwargs.get("name") or endpoint.__name__
            extra.setdefault(ACTION_KEY, name.replace("_", "-"))
        extra.setdefault("security", _security(scope))
        kwargs["openapi_extra"] = extra
        kwargs["responses"] = {
            **_responses(scope, self.mutating),
            **(kwargs.get("responses") or {}),
        }
        super().__init__(path, endpoint, **kwargs)
        self.needs: Access = scope
        self.action: str | None = extra.get(ACTION_KEY)

    def get_route_handler(self) -> Handler:
        """The route's handler wrapped in the scope check and the audit record."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            principal: Principal | None = None
            params: dict[str, Any] = {**request.query_params, **request.path_params}
            try:
                principal = authorize(request, self.needs)
                if self.mutating:  # the path names the model, whatever the body says
                    params = {**params, **await _body_params(request), **request.path_params}
                response = await handler(request)
            except Exception as exc:
                if self.mutating:  # a 403 still names the token that was refused
                    principal = getattr(request.state, "principal", principal)
                    await self._record(request, principal, params, *_failure(exc))
                raise
            if self.mutating:
                await self._record(request, principal, params, response.status_code, None)
            return response

        return guarded

    async def _record(
        self,
        request: Request,
        principal: Principal | None,
        params: dict[str, Any],
        status: int,
        error_code: str | None,
    ) -> None:
        """Append the call's one audit record (a failure to write it is logged, not
        answered: the change is made or refused either way)."""
        model_id = params.get("model_id")
        try:
            await request.app.state.runtime.audit.arecord(
                actor_of(request, principal),
                self.action or self.name,
                outcome=_outcome(status),
                model_id=model_id if isinstance(model_id, str) else None,
                params=params,
                token=principal.name if principal else None,
                status=status,
                error_code=error_code,
            )
        except Exception:
            logger.exception("cannot write the audit record of %s %s", request.method, self.path)


def authorize(request: Request, needs: Access) -> Principal | None:
    """The request's principal, if it may do what needs ``needs`` (kept in
    ``request.state.principal``); UnauthorizedError (401) or ForbiddenError (403) if not."""
    if needs == "public":
        return None
    given = bearer(request.headers.get("Authorization"))
    store: TokenStore = request.app.state.tokens
    principal = store.authenticate(given) if given else None
    request.state.principal = principal
    if needs == "read" and reads_open(request):
        return principal
    if principal is None:
        missing = "this action needs a bearer token" if given is None else "the token is not valid"
        raise UnauthorizedError(missing)
    if not allows(principal.scope, needs):
        raise ForbiddenError(
            f"the token {principal.name!r} has scope {principal.scope}; this needs {needs}"
        )
    return principal


def reads_open(request: Request) -> bool:
    """Reads need no token: the service listens on a loopback address only, unless the
    settings require a read token anyway (a reverse proxy on loopback serving others)."""
    settings = request.app.state.runtime.settings
    required = settings.read_token_required
    return not required if required is not None else is_loopback(settings.host)


def actor_of(request: Request, principal: Principal | None) -> str:
    """Who the audit log names: the CLI's user when the CLI says so (only the service's own
    token, read from MODELWARD_HOME by the local CLI, may say so), else the token."""
    claimed = request.headers.get(ACTOR_HEADER, "")
    if claimed.startswith("cli:") and principal is not None and principal.name == SERVICE:
        return claimed[:160]
    return principal.name if principal else "anonymous"


def _security(scope: Access) -> list[dict[str, list[str]]]:
    if scope == "public":
        return []
    if scope == "read":
        return [{}, {BEARER_SCHEME: []}]  # optional on loopback
    return [{BEARER_SCHEME: []}]


def _responses(scope: Access, mutating: bool) -> dict[int | str, dict[str, Any]]:
    found = dict(_GUARDED_RESPONSES) if scope in ("operate", "admin") else {}
    return {**found, **_MUTATION_RESPONSES} if mutating else found


async def _body_params(request: Request) -> dict[str, Any]:
    """The JSON body's fields (read here, within the body limit; the route reuses it)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return {}  # the route answers the malformed (or too deeply nested) body
    return body if isinstance(body, dict) else {"body": body}


def _failure(exc: Exception) -> tuple[int, str | None]:
    """The HTTP status and error code ``exc`` is answered with."""
    if isinstance(exc, ModelwardError):
        return status_for(exc), exc.code
    if isinstance(exc, RequestValidationError):
        return 422, "request-invalid"
    if isinstance(exc, HTTPException):
        return exc.status_code, http_error_code(exc.status_code)
    return 500, "internal-error"


def _outcome(status: int) -> Outcome:
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 else "ok"
