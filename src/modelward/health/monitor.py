"""The seed's ModelHealthMonitor: integrity checks of catalog models, by model id."""

from __future__ import annotations

import asyncio
import time

from modelward.health.checker import IntegrityResult, VerifyLevel, check_integrity
from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.store.manager import ModelManager


class ModelHealthMonitor:
    """Checks what the store holds for each model, offline (from the recorded manifest)."""

    def __init__(self, manager: ModelManager) -> None:
        self.manager = manager
        self.last_results: dict[str, IntegrityResult] = {}
        """The latest result per model, shown with its age (``checked_at``)."""

    async def check_model_integrity(
        self, model_id: str, level: VerifyLevel = VerifyLevel.STRUCTURAL
    ) -> IntegrityResult:
        """Check ``model_id``'s files at ``level`` (hashing runs off the event loop)."""
        spec = self.manager.spec(model_id)  # UnknownModelError names the catalog's models
        target = await asyncio.to_thread(self.manager.known_target, model_id)
        if target is None:
            issue = IntegrityIssue(
                spec.repo,
                IssueKind.MISSING,
                "never downloaded: run `modelward pull " + model_id + "`",
            )
            result = IntegrityResult(model_id, level, False, 0.0, (issue,), time.time(), 0)
        else:
            layout = self.manager.repo_layout(target.repo_id)
            result = await asyncio.to_thread(check_integrity, model_id, layout, target, level)
        self.last_results[model_id] = result
        return result
