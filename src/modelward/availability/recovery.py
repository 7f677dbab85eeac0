"""The seed's base FallbackRecoverySystem: each kind of failure a generation app meets,
mapped to the one concrete thing that fixes it, taken at once where it is safe (the
:class:`~modelward.availability.enhanced_recovery.EnhancedErrorRecovery` tries it first).

| category            | action                                                      |
|---------------------|-------------------------------------------------------------|
| network             | download again; the downloader backs off exponentially      |
| partial download    | resume from the verified bytes on disk                      |
| corrupted download  | download again; every byte is verified before it is used    |
| storage full        | plan a cleanup that frees what is missing; retry once free  |
| missing files       | fetch only the missing files                                |
| corruption at load  | repair: only the damaged blocks are fetched                 |
| version mismatch    | offer the update (or staying), never switch unasked         |
| VRAM insufficient   | offload / lower resolution, or a model that fits            |
| slow generation     | health check of the files, and the performance suggestions  |
| quality issues      | full verification; repair what it finds                     |
| frequent failures   | integrity check, and a replacement model to try             |

When retries are spent the answer is the manual steps (Requirement 1.4); when no model is
available at all, the setup instructions (Requirement 4.2).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelward.actions import Action, Step
from modelward.availability.cleanup import RetentionPolicy
from modelward.availability.fallback import IntelligentFallbackManager
from modelward.availability.guidance import manual_download_steps, version_steps
from modelward.availability.strategy import (
    ErrorCategory,
    ErrorContext,
    FallbackStrategy,
    FallbackType,
)
from modelward.errors import ModelwardError, NoAlternativeError, StoreLockedError
from modelward.health import VerifyLevel
from modelward.status import DetailedModelStatus, ModelAvailabilityStatus
from modelward.store.space import free_bytes
from modelward.transfer import DownloadStatus
from modelward.units import format_size
from modelward.updates import ModelUpdater

_RESOLVE_TIMEOUT_S = 10.0
_NETWORK_CODES = ("source-unavailable", "transfer-incomplete", "transfer-error", "source-error")


class RecoveryAction(StrEnum):
    """What the recovery did (or, for offers and guidance, proposes)."""

    RETRY_WITH_BACKOFF = "retry-with-backoff"
    RESUME_DOWNLOAD = "resume-download"
    REDOWNLOAD_VERIFIED = "redownload-verified"
    SUGGEST_CLEANUP = "suggest-cleanup"
    TARGETED_REDOWNLOAD = "targeted-redownload"
    REPAIR = "repair"
    OFFER_VERSION_CHANGE = "offer-version-change"
    REDUCE_OR_ALTERNATIVE = "reduce-or-alternative"
    HEALTH_CHECK = "health-check"
    VERIFY_INTEGRITY = "verify-integrity"
    RECOMMEND_REPLACEMENT = "recommend-replacement"
    USE_ALTERNATIVE = "use-alternative"
    QUEUE_FOR_DOWNLOAD = "queue-for-download"
    MANUAL_STEPS = "manual-steps"
    SETUP_INSTRUCTIONS = "setup-instructions"
    NOTHING_TO_DO = "nothing-to-do"


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """The seed's RecoveryResult: what was done about a failure, and what a person may do."""

    model_id: str
    category: ErrorCategory
    action: RecoveryAction
    success: bool
    """True when the action ran (or nothing was wrong); False when a person must act."""
    message: str
    steps: tuple[Step, ...] = ()
    """Manual steps, when the fix needs a person: words, and the action of each."""
    strategy: FallbackStrategy | None = None
    details: dict[str, Any] = field(default_factory=dict)


class FallbackRecoverySystem:
    """The seed's base recovery: each failure category mapped to its action (see the module
    docstring); the enhanced recovery follows the fallback strategy when this has no fix."""

    def __init__(
        self, fallback_manager: IntelligentFallbackManager, updater: ModelUpdater | None = None
    ) -> None:
        self.fallback = fallback_manager
        self.updater = updater
        self.availability = fallback_manager.availability
        self.downloader = fallback_manager.downloader
        self.health = fallback_manager.health
        self.catalog = fallback_manager.catalog

    async def attempt_recovery(self, context: ErrorContext) -> RecoveryResult:
        """Fix what failed for ``context.model_id``: the context's category, or the one the
        facts show for a model that is simply not usable. ``NOTHING_TO_DO`` and unsuccessful
        when this knows no fix (the model is just not here): the fallback strategy's turn."""
        if context.model_id is None:
            raise ModelwardError(
                "no model to recover", hint="Name the model that failed in context.model_id."
            )
        model_id = context.model_id
        self.catalog.get(model_id)
        status = await self.availability.status(model_id)
        category = context.category
        if category in (ErrorCategory.MODEL_UNAVAILABLE, ErrorCategory.LOAD_FAILED):
            category = await self._classify(status) or category
        return await self._recover(model_id, category, context, status)

    async def _recover(
        self,
        model_id: str,
        category: ErrorCategory,
        context: ErrorContext,
        status: DetailedModelStatus,
    ) -> RecoveryResult:
        handlers = {
            ErrorCategory.NETWORK: self._network,
            ErrorCategory.PARTIAL_DOWNLOAD: self._partial,
            ErrorCategory.CORRUPTED_DOWNLOAD: self._corrupted_download,
            ErrorCategory.STORAGE_FULL: self._storage_full,
            ErrorCategory.MISSING_FILES: self._missing_files,
            ErrorCategory.CORRUPTION_AT_LOAD: self._corruption_at_load,
            ErrorCategory.VERSION_MISMATCH: self._version_mismatch,
            ErrorCategory.VRAM_INSUFFICIENT: self._vram,
            ErrorCategory.SLOW_GENERATION: self._slow,
            ErrorCategory.QUALITY_ISSUES: self._quality,
            ErrorCategory.FREQUENT_FAILURES: self._frequent_failures,
        }
        handler = handlers.get(category)
        if handler is None:
            return await self._by_strategy(model_id, category, context, status)
        return await handler(model_id, category, context, status)

    async def _classify(self, status: DetailedModelStatus) -> ErrorCategory | None:
        """The category the facts show for a model that is simply "not usable"."""
        state = status.availability_status
        if state is ModelAvailabilityStatus.CORRUPTED:
            return ErrorCategory.CORRUPTION_AT_LOAD
        if state is ModelAvailabilityStatus.FAILED:
            progress = await self.downloader.get_download_progress(status.model_id)
            code = progress.error_code or ""
            if code == "insufficient-space":
                return ErrorCategory.STORAGE_FULL
            if code == "integrity-mismatch":
                return ErrorCategory.CORRUPTED_DOWNLOAD
            if code in _NETWORK_CODES:
                return ErrorCategory.NETWORK
        if state is ModelAvailabilityStatus.PAUSED and not await self._paused_by_person(
            status.model_id
        ):
            return ErrorCategory.PARTIAL_DOWNLOAD  # interrupted (a crash, a Ctrl-C)
        if state is ModelAvailabilityStatus.MISSING and status.present_bytes > 0:
            return ErrorCategory.MISSING_FILES  # some files are here, verified; others not
        return None

    # Download failures

    async def _network(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        progress = await self.downloader.get_download_progress(model_id)
        # A download only ends FAILED once its retries are spent: retrying blindly again
        # would only fail again, unless the source answers now.
        spent = progress.status is DownloadStatus.FAILED and progress.error_code in _NETWORK_CODES
        if spent and not await self._source_answers(model_id):
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.MANUAL_STEPS,
                success=False,
                message=(
                    f"{model_id} failed after {progress.retry_count} retries and the source "
                    f"still does not answer: {progress.error_message or 'no response'}"
                ),
                steps=self._manual_download_steps(model_id),
                details={"retries": progress.retry_count, "error_code": progress.error_code},
            )
        return await self._download(
            model_id,
            category,
            RecoveryAction.RETRY_WITH_BACKOFF,
            "downloading again; failed requests are retried with exponential backoff",
        )

    async def _partial(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, s: DetailedModelStatus
    ) -> RecoveryResult:
        return await self._download(
            model_id,
            category,
            RecoveryAction.RESUME_DOWNLOAD,
            f"resuming from the {format_size(s.present_bytes)} already on disk",
            resumed_from_bytes=s.present_bytes,
        )

    async def _corrupted_download(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        return await self._download(
            model_id,
            category,
            RecoveryAction.REDOWNLOAD_VERIFIED,
            "downloading the damaged file again; no byte is used before its hash matches",
        )

    async def _storage_full(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, s: DetailedModelStatus
    ) -> RecoveryResult:
        needed = max(0, s.size_bytes - s.present_bytes)
        free = await asyncio.to_thread(free_bytes, self.downloader.manager.cache_dir)
        if needed <= free:  # also when the size is unknown: the download checks itself
            return await self._download(
                model_id,
                category,
                RecoveryAction.RETRY_WITH_BACKOFF,
                f"{format_size(free)} are free now, enough for the {format_size(needed)} needed",
            )
        plan = await self.availability.cleanup_unused_models(
            RetentionPolicy(target_free_bytes=needed, keep=frozenset({model_id}))
        )
        short = needed - free
        steps = [
            Step(f"free {format_size(short)} on the disk of {self.downloader.manager.cache_dir}")
        ]
        if plan.removed:
            names = ", ".join(c.model_id for c in plan.removed)
            freed = format_size(plan.freed_bytes)
            steps.append(
                Step(f"a cleanup of unused models would free {freed}: {names}", Action.CLEANUP)
            )
        steps.append(Step("or move the store to a bigger disk (--cache-dir / HF_HUB_CACHE)"))
        steps.append(Step(f"then download {model_id}", Action.DOWNLOAD, model_id))
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.SUGGEST_CLEANUP,
            success=False,
            message=f"{model_id} needs {format_size(needed)} and {format_size(free)} are free",
            steps=tuple(steps),
            details={
                "needed_bytes": needed,
                "free_bytes": free,
                "cleanup": [c.model_id for c in plan.removed],
                "cleanup_frees_bytes": plan.freed_bytes,
            },
        )

    # Model loading failures

    async def _missing_files(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, s: DetailedModelStatus
    ) -> RecoveryResult:
        if not s.missing_files:
            return _fine(model_id, category, "no file of the model is missing")
        return await self._download(
            model_id,
            category,
            RecoveryAction.TARGETED_REDOWNLOAD,
            f"fetching only the {len(s.missing_files)} missing file(s); the rest stay",
            files=list(s.missing_files),
        )

    async def _corruption_at_load(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, s: DetailedModelStatus
    ) -> RecoveryResult:
        return self._repair(model_id, category, "repairing: only the damaged blocks are fetched")

    async def _version_mismatch(
        self, model_id: str, category: ErrorCategory, ctx: ErrorContext, s: DetailedModelStatus
    ) -> RecoveryResult:
        spec = self.catalog.get(model_id)
        current = s.current_version or None
        latest: str | None = None
        if self.updater is not None:
            try:
                latest = (await self.updater.check_for_update(model_id)).latest_version
            except (ModelwardError, TimeoutError):
                latest = None
        wanted = ctx.expected_revision or latest
        steps = version_steps(model_id, wanted, latest, current, s.local_path)
        message = (
            f"{model_id} here is {current[:12] if current else 'not complete'}; "
            f"the app expects {wanted[:12] if wanted else 'another version'}"
            + (f" and the source's {spec.revision} is {latest[:12]}" if latest else "")
        )
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.OFFER_VERSION_CHANGE,
            success=False,
            message=message,
            steps=steps,
            details={"current": current, "expected": ctx.expected_revision, "latest": latest},
        )

    async def _vram(
        self, model_id: str, category: ErrorCategory, ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        strategy = await self.fallback.get_fallback_strategy(model_id, ctx)
        workable = strategy.strategy_type in (
            FallbackType.REDUCE_REQUIREMENTS,
            FallbackType.ALTERNATIVE_MODEL,
        )
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.REDUCE_OR_ALTERNATIVE,
            success=workable,
            message=strategy.user_message,
            steps=_words(strategy.changes) or strategy.steps,
            strategy=strategy,
        )

    # Performance degradation

    async def _slow(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        check = await self.health.check_model_integrity(model_id, VerifyLevel.STRUCTURAL)
        performance = await self.health.performance_health(model_id)
        steps = [Step(s, Action.VERIFY_FULL, model_id) for s in performance.suggestions]
        if not check.is_healthy:
            steps.insert(0, Step("its files have issues: repair them", Action.REPAIR, model_id))
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.HEALTH_CHECK,
            success=True,
            message=(
                f"{model_id} files: {'healthy' if check.is_healthy else 'issues found'}; "
                f"performance {performance.status.value}"
                + (f" ({'; '.join(performance.reasons)})" if performance.reasons else "")
            ),
            steps=tuple(steps),
            details={
                "integrity_healthy": check.is_healthy,
                "performance_status": performance.status.value,
                "slowdown": performance.slowdown,
            },
        )

    async def _quality(
        self, model_id: str, category: ErrorCategory, _ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        report = await self.health.detect_corruption(model_id)
        if not report.corruption_detected:
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.VERIFY_INTEGRITY,
                success=True,
                message=(
                    f"every byte of {model_id} matches its source; the cause is elsewhere "
                    "(prompt, steps, resolution or the app's pipeline)"
                ),
                details={"damaged_files": []},
            )
        damaged = [f.path for f in report.files]
        repaired = self._repair(model_id, category, f"damaged: {', '.join(damaged)}; repairing")
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.VERIFY_INTEGRITY,
            success=repaired.success,
            message=repaired.message,
            steps=repaired.steps,
            details={"damaged_files": damaged, "repair_started": repaired.success},
        )

    async def _frequent_failures(
        self, model_id: str, category: ErrorCategory, ctx: ErrorContext, _s: DetailedModelStatus
    ) -> RecoveryResult:
        check = await self.health.check_model_integrity(model_id, VerifyLevel.STRUCTURAL)
        performance = await self.health.performance_health(model_id)
        try:
            suggestion = await self.fallback.suggest_alternative_model(model_id, ctx.requirements)
        except NoAlternativeError as none:
            suggestion = None
            why_none = none.message
        steps = []
        if not check.is_healthy:
            steps.append(Step("its files have issues: repair them", Action.REPAIR, model_id))
        if suggestion is not None:
            other = suggestion.suggested_model
            why = f"({suggestion.reason}); download it if it is not here"
            steps.append(Step(f"try {other} instead {why}", Action.DOWNLOAD, other))
        else:
            steps.append(Step(f"no replacement fits the job: {why_none}"))
        return RecoveryResult(
            model_id,
            category,
            RecoveryAction.RECOMMEND_REPLACEMENT,
            success=suggestion is not None,
            message=(
                f"{model_id} failed {performance.recent_failure_rate:.0%} of recent jobs"
                + (
                    f"; {suggestion.suggested_model} is the closest replacement"
                    if suggestion
                    else ""
                )
            ),
            steps=tuple(steps),
            details={
                "failure_rate": performance.recent_failure_rate,
                "replacement": suggestion.suggested_model if suggestion else None,
                "integrity_healthy": check.is_healthy,
            },
        )

    # The model is simply not here: the base knows no fix, the fallback strategy decides.

    async def _by_strategy(
        self,
        model_id: str,
        category: ErrorCategory,
        ctx: ErrorContext,
        status: DetailedModelStatus,
    ) -> RecoveryResult:
        if status.is_available:
            return _fine(model_id, category, f"{model_id} is available at {status.local_path}")
        if status.availability_status is ModelAvailabilityStatus.PAUSED:
            # A person paused it (an interrupted one was classified above): theirs to resume.
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.MANUAL_STEPS,
                success=False,
                message=f"{model_id} was paused; it stays paused until someone resumes it",
                steps=(Step(f"resume {model_id} to continue it", Action.RESUME, model_id),),
            )
        state = status.availability_status.value
        message = f"{model_id} is {state}: no failure the base recovery has a fix for"
        return RecoveryResult(model_id, category, RecoveryAction.NOTHING_TO_DO, False, message)

    async def retry_download(
        self, model_id: str, category: ErrorCategory, message: str
    ) -> RecoveryResult:
        """Start downloading ``model_id`` (retries back off exponentially)."""
        return await self._download(model_id, category, RecoveryAction.RETRY_WITH_BACKOFF, message)

    def _manual_download_steps(self, model_id: str) -> tuple[Step, ...]:
        where = (self.downloader.endpoint, self.downloader.manager.cache_dir)
        return manual_download_steps(self.catalog.get(model_id), *where)

    async def _paused_by_person(self, model_id: str) -> bool:
        entries = await self.downloader.queue_entries()
        return any(e.model_id == model_id and e.status is DownloadStatus.PAUSED for e in entries)

    async def _source_answers(self, model_id: str) -> bool:
        spec = self.catalog.get(model_id)
        try:
            await asyncio.wait_for(
                self.downloader.source(model_id).resolve(spec), _RESOLVE_TIMEOUT_S
            )
        except (ModelwardError, TimeoutError):
            return False
        return True

    # Actions

    async def _download(
        self,
        model_id: str,
        category: ErrorCategory,
        action: RecoveryAction,
        message: str,
        **details: Any,
    ) -> RecoveryResult:
        if self.downloader.is_running(model_id):
            return RecoveryResult(
                model_id,
                category,
                action,
                True,
                f"{model_id} is already downloading",
                details=details,
            )
        try:
            await self.downloader.start_download(model_id)
        except ModelwardError as error:
            return RecoveryResult(
                model_id,
                category,
                action,
                False,
                error.message,
                steps=_words((error.hint,) if error.hint else ()),
                details=details,
            )
        return RecoveryResult(model_id, category, action, True, message, details=details)

    def _repair(self, model_id: str, category: ErrorCategory, message: str) -> RecoveryResult:
        try:
            self.health.start_repair(model_id)
        except StoreLockedError as busy:
            return RecoveryResult(
                model_id,
                category,
                RecoveryAction.REPAIR,
                False,
                busy.message,
                steps=_words((busy.hint,) if busy.hint else ()),
            )
        return RecoveryResult(model_id, category, RecoveryAction.REPAIR, True, message)


def _fine(model_id: str, category: ErrorCategory, message: str) -> RecoveryResult:
    return RecoveryResult(model_id, category, RecoveryAction.NOTHING_TO_DO, True, message)


def _words(texts: tuple[str, ...]) -> tuple[Step, ...]:
    """Steps a person takes by hand (a change to the job, an error's hint)."""
    return tuple(Step(t) for t in texts)
