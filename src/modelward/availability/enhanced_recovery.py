"""The seed's EnhancedErrorRecovery: the base recovery first, then the fallback strategy.

As the seed writes it: ``handle_model_unavailable`` tries the base recovery
(:class:`FallbackRecoverySystem`, each failure category mapped to its fix). When that
recovers, or says what a person must do (manual steps, a cleanup plan, an update to
accept), that is the answer. When it has no fix (``NOTHING_TO_DO``, unsuccessful: the model
is simply not here), the intelligent fallback strategy decides: a ready alternative,
waiting for the model on its way, downloading it, or the labelled mock with the steps that
would make a real model available.
"""

from __future__ import annotations

import dataclasses

from modelward.actions import Step
from modelward.availability.fallback import IntelligentFallbackManager
from modelward.availability.guidance import manual_download_steps, setup_steps
from modelward.availability.recovery import (
    FallbackRecoverySystem,
    RecoveryAction,
    RecoveryResult,
)
from modelward.availability.strategy import (
    ErrorCategory,
    ErrorContext,
    FallbackStrategy,
    FallbackType,
)
from modelward.events import Event, EventType


class EnhancedErrorRecovery:
    """The base recovery first; the fallback strategy when it has no fix."""

    def __init__(
        self, base_recovery: FallbackRecoverySystem, fallback_manager: IntelligentFallbackManager
    ) -> None:
        self.base_recovery = base_recovery
        self.fallback_manager = fallback_manager
        self.availability = fallback_manager.availability
        self.downloader = fallback_manager.downloader
        self.catalog = fallback_manager.catalog

    async def handle_model_unavailable(
        self, model_id: str, context: ErrorContext | None = None
    ) -> RecoveryResult:
        """Recover ``model_id`` from ``context`` (its category, or the one the facts show),
        and publish what was done as a ``recovery`` event."""
        context = dataclasses.replace(context or ErrorContext(), model_id=model_id)
        result = await self.base_recovery.attempt_recovery(context)
        if not result.success and result.action is RecoveryAction.NOTHING_TO_DO:
            result = await self._by_strategy(model_id, result.category, context)
        if self.availability.bus is not None:
            self.availability.bus.publish(
                Event(
                    EventType.RECOVERY,
                    model_id,
                    {
                        "category": result.category.value,
                        "action": result.action.value,
                        "success": result.success,
                        "message": result.message,
                    },
                )
            )
        return result

    async def _by_strategy(
        self, model_id: str, category: ErrorCategory, ctx: ErrorContext
    ) -> RecoveryResult:
        strategy = await self.fallback_manager.get_fallback_strategy(model_id, ctx)
        kind = strategy.strategy_type
        if kind in (FallbackType.ALTERNATIVE_MODEL, FallbackType.REDUCE_REQUIREMENTS):
            action = RecoveryAction.USE_ALTERNATIVE
            steps = tuple(Step(t) for t in strategy.changes)
            return RecoveryResult(
                model_id, category, action, True, strategy.user_message, steps, strategy
            )
        if kind is FallbackType.QUEUE_AND_WAIT:
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.QUEUE_FOR_DOWNLOAD,
                True,
                strategy.user_message,
                strategy=strategy,
            )
        if kind is FallbackType.DOWNLOAD_AND_RETRY:
            started = await self.base_recovery.retry_download(
                model_id, category, strategy.user_message
            )
            return dataclasses.replace(started, strategy=strategy)
        return await self.setup_guidance(model_id, category, strategy)

    async def setup_guidance(
        self,
        model_id: str,
        category: ErrorCategory = ErrorCategory.MODEL_UNAVAILABLE,
        strategy: FallbackStrategy | None = None,
    ) -> RecoveryResult:
        """The mock's companion: setup instructions when no model at all is available
        (Requirement 4.2), else the manual steps for the requested one."""
        statuses = await self.availability.get_comprehensive_model_status(resolve_remote=False)
        where = (self.downloader.endpoint, self.downloader.manager.cache_dir)
        if any(s.is_available for s in statuses.values()):
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.MANUAL_STEPS,
                success=False,
                message=strategy.user_message if strategy else f"{model_id} is not available",
                steps=manual_download_steps(self.catalog.get(model_id), *where),
                strategy=strategy,
            )
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.SETUP_INSTRUCTIONS,
            success=False,
            message="no model is available on this machine yet; outputs are labelled mocks",
            steps=setup_steps(statuses, *where),
            strategy=strategy,
        )
