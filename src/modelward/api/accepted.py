"""The end of work a route accepted with 202 and left running in the background.

The guard records the acceptance (outcome ``ok``, status 202) like any call; ``audit_end``
adds a second record, with the same actor, action and model, when the work ends: params
``{"phase": "finished"}``, outcome ``ok`` when it succeeded and ``failed`` otherwise (with
the error's code when it raised one; ``cancelled`` when it was cancelled), and no HTTP
status.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import Request

from modelward.api.guard import actor_of
from modelward.errors import ModelwardError
from modelward.ops.audit import AuditLog, Outcome

logger = logging.getLogger(__name__)

FINISHED = {"phase": "finished"}
_pending: set[asyncio.Task[None]] = set()


def audit_end(request: Request, task: asyncio.Future[Any]) -> None:
    """Record how ``task`` ends, as the request that started it (see the module)."""
    principal = getattr(request.state, "principal", None)
    details: dict[str, Any] = {
        "actor": actor_of(request, principal),
        "action": getattr(request.scope.get("route"), "action", None) or "unknown",
        "model_id": request.path_params.get("model_id"),
        "token": principal.name if principal else None,
    }
    audit: AuditLog = request.app.state.runtime.audit

    def ended(done: asyncio.Future[Any]) -> None:
        outcome, code = _ending(done)
        record = asyncio.ensure_future(_record(audit, details, outcome, code))
        _pending.add(record)
        record.add_done_callback(_pending.discard)

    task.add_done_callback(ended)


def _ending(done: asyncio.Future[Any]) -> tuple[Outcome, str | None]:
    """The outcome and error code of finished work."""
    if done.cancelled():
        return "failed", "cancelled"
    error = done.exception()
    if isinstance(error, ModelwardError):
        return "failed", error.code
    if error is not None:
        return "failed", "internal-error"
    return ("ok" if getattr(done.result(), "success", True) else "failed"), None


async def _record(
    audit: AuditLog, details: dict[str, Any], outcome: Outcome, code: str | None
) -> None:
    try:
        await audit.arecord(
            details["actor"],
            details["action"],
            outcome=outcome,
            model_id=details["model_id"],
            params=FINISHED,
            token=details["token"],
            error_code=code,
        )
    except Exception:
        logger.exception("cannot write the end record of %s", details["action"])
