"""Audit records for work the service starts by itself (scheduled checks, automation,
update auto-apply and rollback, downloads continued after a restart).

The API records what a person asks for; the components that start work on their own call
:func:`record_self_started` at the place they decide to, with their actor. Action names are
those of the API routes doing the same thing, so the log reads alike whoever acted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from modelward.errors import ModelwardError
from modelward.ops.audit import Actor, AuditLog, Outcome

logger = logging.getLogger(__name__)

SCHEDULER: Final = "scheduler"
AUTOMATION: Final = "automation"
RECOVERY: Final = "recovery"

VERIFY: Final = "verify"
REPAIR: Final = "repair"
START_DOWNLOAD: Final = "start-download"
APPLY_UPDATE: Final = "apply-update"
ROLLBACK: Final = "rollback"
PRUNE: Final = "prune"


async def record_self_started(
    audit: AuditLog | None,
    actor: Actor,
    action: str,
    model_id: str | None,
    *,
    error: ModelwardError | None = None,
    outcome: Outcome | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Append one record (``failed`` with the error's code when ``error`` is given); never
    raises: the work must not stop because its record could not be written."""
    if audit is None:
        return
    try:
        await audit.arecord(
            actor,
            action,
            outcome=outcome or ("failed" if error is not None else "ok"),
            model_id=model_id,
            params=params,
            error_code=error.code if error is not None else None,
        )
    except Exception:
        logger.exception("cannot write the audit record of %s %s", actor, action)
