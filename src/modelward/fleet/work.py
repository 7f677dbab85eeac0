"""One node's part of a fleet action, done through the same calls the API's routes make
(``POST /models/{id}/download``, ``/update``, ``/verify``, ``DELETE /models/{id}``), then
recorded in the audit log as coming from the fleet: who asked, on which node."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from modelward.availability import ModelAvailabilityManager
from modelward.errors import ModelwardError
from modelward.fleet.records import ActionResult, FleetAction
from modelward.health import ModelHealthMonitor, VerifyLevel
from modelward.ops import AuditLog
from modelward.transfer import EnhancedModelDownloader
from modelward.updates import ModelUpdater

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Workers:
    """The parts of this node that do the work (the ones the API's routes call)."""

    downloader: EnhancedModelDownloader
    updater: ModelUpdater
    health: ModelHealthMonitor
    availability: ModelAvailabilityManager
    audit: AuditLog


async def perform(workers: Workers, action: FleetAction, node: str) -> ActionResult:
    """Do ``node``'s part of ``action`` and say how it ended (never raises but for
    cancellation: a failure is a result)."""
    try:
        done = await _do(workers, action, node)
    except ModelwardError as error:
        done = ActionResult(node, "failed", error.message, error.code)
    except Exception as error:
        logger.exception("fleet action %s (%s) failed", action.id, action.action)
        done = ActionResult(node, "failed", f"internal error: {error}", "internal-error")
    await _audit(workers.audit, action, node, done)
    return done


async def _do(workers: Workers, action: FleetAction, node: str) -> ActionResult:
    model_id = action.model_id
    if action.action == "pull":
        await workers.downloader.start_download(model_id)
        pulled = await workers.downloader.wait_for_completion(model_id)
        if pulled.success:
            return ActionResult(node, "completed", f"{model_id} is here and verified")
        return ActionResult(node, "failed", pulled.error_message, pulled.error_code)
    if action.action == "update":
        updated = await workers.updater.apply_update(model_id)
        return ActionResult(node, "completed" if updated.success else "failed", updated.message)
    if action.action == "verify":
        checked = await workers.health.check_model_integrity(model_id, VerifyLevel.STRUCTURAL)
        if checked.is_healthy:
            return ActionResult(node, "completed", f"healthy ({checked.files_checked} files)")
        if checked.files_checked == 0:
            return ActionResult(node, "failed", f"{model_id} has no files on this node")
        found = "; ".join(f"{i.path}: {i.detail}" for i in checked.issues[:3])
        return ActionResult(node, "failed", f"unhealthy: {found}")
    removed = await workers.availability.remove_model(model_id, dry_run=False)
    return ActionResult(node, "completed", removed.message)


def fleet_actor(action: FleetAction) -> str:
    """Who the audit log names for work a fleet action asked of a node."""
    return f"fleet:{action.origin}:{action.actor}"[:160]


async def _audit(audit: AuditLog, action: FleetAction, node: str, done: ActionResult) -> None:
    try:
        await audit.arecord(
            fleet_actor(action),
            f"fleet-{action.action}",
            outcome="ok" if done.state == "completed" else "failed",
            model_id=action.model_id,
            params={"action_id": action.id, "node": node, "origin": action.origin},
            error_code=done.error_code,
        )
    except Exception:  # the work is done either way; the log says why this record is missing
        logger.exception("cannot write the audit record of fleet action %s", action.id)
