"""Action codes (``modelward.actions``) as this service's routes: what a client calls to
carry out a recommendation or a proposal. The CLI has the same table as commands."""

from __future__ import annotations

from typing import Any

from modelward.actions import Action

_ROUTES: dict[Action, str] = {
    Action.DOWNLOAD: "POST /api/v1/models/{model_id}/download",
    Action.REPAIR: "POST /api/v1/models/{model_id}/repair",
    Action.VERIFY: "POST /api/v1/models/{model_id}/verify",
    Action.VERIFY_FULL: "POST /api/v1/models/{model_id}/verify?level=full",
    Action.RESUME: "POST /api/v1/models/{model_id}/resume",
    Action.CANCEL: "POST /api/v1/models/{model_id}/cancel",
    Action.UPDATE: "POST /api/v1/models/{model_id}/update",
    Action.ROLLBACK: "POST /api/v1/models/{model_id}/rollback",
    Action.PRUNE: "DELETE /api/v1/models/{model_id}/versions/previous",
    Action.REMOVE: "DELETE /api/v1/models/{model_id}",
    Action.CLEANUP: "POST /api/v1/cleanup",
    Action.LIST_QUARANTINE: "GET /api/v1/quarantine",
    Action.PURGE_QUARANTINE: "DELETE /api/v1/quarantine",
}


def route_for(action: str, model_id: str | None) -> str | None:
    """``METHOD /path`` that carries out ``action`` (None: no route does, or it needs a
    model and none is named)."""
    try:
        template = _ROUTES.get(Action(action))
    except ValueError:
        return None
    if template is None or ("{model_id}" in template and not model_id):
        return None
    return template.format(model_id=model_id)


def with_route(data: dict[str, Any], model_id: str | None) -> dict[str, Any]:
    """``data`` (an event's or a recommendation's) with the route of its ``action`` added."""
    action = data.get("action")
    if not isinstance(action, str) or "route" in data:
        return data
    route = route_for(action, data.get("model_id") or model_id)
    return data if route is None else {**data, "route": route}
