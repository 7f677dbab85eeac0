"""The seed's ModelIntegrationBridge: what a generation app calls around each job.

``async with bridge.use_model("t2v-a14b", requirements) as lease:`` gives the local
snapshot path of a model that can serve the job now (the requested one, or the
alternative the fallback manager chose), or none and the strategy (queue and wait,
download and retry, a labelled mock). The model is marked in use for the duration, and on
exit the job's duration and outcome (plus what the app adds with :meth:`ModelLease.report`)
are recorded for performance health and analytics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from modelward.actions import Step
from modelward.analytics import ModelUsageAnalytics, UsageData
from modelward.availability.manager import ModelAvailabilityManager
from modelward.availability.requirements import GenerationRequirements
from modelward.availability.strategy import FallbackStrategy
from modelward.events import Event, EventType
from modelward.health import GenerationMetrics
from modelward.updates import ModelUpdater

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ModelLease:
    """What a job may use, for as long as the ``use_model`` block runs."""

    requested_model: str
    model_id: str | None
    """The model the job runs on (None: no real model; see ``strategy``)."""
    path: str | None
    """Its local snapshot folder, for ``from_pretrained(path)``."""
    is_mock: bool
    strategy: FallbackStrategy | None
    """Why the job does not run on the requested model, and what else would work."""
    upgrade: Step | None
    """How to get the requested model, when the job runs on something else."""
    metrics: dict[str, object] = field(default_factory=dict)

    @property
    def is_requested_model(self) -> bool:
        """True when the job runs on the model it asked for."""
        return self.model_id == self.requested_model

    def report(
        self,
        *,
        width: int | None = None,
        height: int | None = None,
        num_frames: int | None = None,
        steps: int | None = None,
        quality_issue: bool = False,
    ) -> None:
        """Tell the bridge about the job, for comparing like with like (and bad outputs)."""
        self.metrics.update(
            width=width,
            height=height,
            num_frames=num_frames,
            steps=steps,
            quality_issue=quality_issue,
        )


class ModelIntegrationBridge:
    """Hands jobs a usable model, or the strategy; records how each job went."""

    def __init__(
        self,
        availability: ModelAvailabilityManager,
        updater: ModelUpdater | None = None,
        analytics: ModelUsageAnalytics | None = None,
    ) -> None:
        self.availability = availability
        self.updater = updater
        self.analytics = analytics
        self._active: list[ModelLease] = []
        self.health = availability.health
        self.manager = availability.manager

    @asynccontextmanager
    async def use_model(
        self,
        model_id: str,
        requirements: GenerationRequirements | None = None,
        *,
        allow_mock: bool = True,
    ) -> AsyncIterator[ModelLease]:
        """A lease on a model for one job (see the module docstring)."""
        req = requirements or GenerationRequirements()
        lease = await self._lease(model_id, req, allow_mock)
        if lease.model_id is not None:
            self.manager.acquire(lease.model_id)
            if self.availability.is_removing(lease.model_id):
                # A removal began between the lookup and the mark: look again (it now
                # reads as gone) rather than hand out files being deleted.
                self.manager.release(lease.model_id)
                lease = await self._lease(model_id, req, allow_mock)
                if lease.model_id is not None:
                    self.manager.acquire(lease.model_id)
        if lease.model_id is not None:
            self._active.append(lease)
            # Every running job learns it now shares the machine with one more model.
            loaded = self.manager.loaded_count()
            for active in self._active:
                active.metrics["concurrent_loaded"] = max(
                    loaded, _int(active.metrics.get("concurrent_loaded")) or 1
                )
        started = time.monotonic()
        outcome = "cancelled"
        try:
            yield lease
        except Exception as exc:
            outcome = "error"
            await self._record(lease, time.monotonic() - started, error=repr(exc)[:500])
            raise
        # A cancelled or interrupted job says nothing about the model: not recorded.
        else:
            outcome = "mock" if lease.is_mock else "ok" if lease.model_id else "not-run"
            await self._record(lease, time.monotonic() - started, error=None)
        finally:
            self._publish(lease, EventType.GENERATION_FINISHED, outcome, started)
            if lease.model_id is not None:
                self.manager.release(lease.model_id)
                self._active = [a for a in self._active if a is not lease]

    async def _lease(
        self, model_id: str, req: GenerationRequirements, allow_mock: bool
    ) -> ModelLease:
        found = await self.availability.handle_model_request(model_id, req)
        mock = allow_mock and found.is_mock
        upgrade = found.upgrade if found.model_id != model_id else None
        lease = ModelLease(model_id, found.model_id, found.path, mock, found.strategy, upgrade)
        self._publish(lease, EventType.FALLBACK_DECIDED)
        return lease

    def _publish(
        self, lease: ModelLease, type_: str, outcome: str | None = None, started: float = 0.0
    ) -> None:
        """``fallback.decided`` / ``generation.finished``: what the job got and how it went
        (for metrics and the fallback usage figures)."""
        if self.availability.bus is None:
            return
        kind = lease.strategy.strategy_type.value if lease.strategy else "use_requested"
        data: dict[str, object] = {
            "requested_model": lease.requested_model,
            "used_model": lease.model_id,
            "strategy": kind,
            "is_mock": lease.is_mock,
        }
        if outcome is not None:
            data |= {"outcome": outcome, "duration_s": round(time.monotonic() - started, 6)}
        self.availability.bus.publish(Event(type_, lease.requested_model, data))

    async def _record(self, lease: ModelLease, seconds: float, error: str | None) -> None:
        if lease.model_id is None:
            return  # a mock or no job: nothing about a real model to learn
        try:
            await self._learn(lease, lease.model_id, seconds, error)
        except Exception:
            # Bookkeeping must never turn a good job into a failure or hide a job's error.
            logger.exception("cannot record the job on %s", lease.model_id)

    async def _learn(
        self, lease: ModelLease, model_id: str, seconds: float, error: str | None
    ) -> None:
        extra = lease.metrics
        metrics = GenerationMetrics(
            generation_time_s=seconds,
            success=error is None,
            quality_issue=bool(extra.get("quality_issue", False)),
            error=error,
            width=_int(extra.get("width")),
            height=_int(extra.get("height")),
            num_frames=_int(extra.get("num_frames")),
            steps=_int(extra.get("steps")),
        )
        # The snapshot folder is named by its commit: the version this job really loaded.
        commit = Path(lease.path).name if lease.path else None
        await self.health.monitor_model_performance(model_id, metrics)
        if self.analytics is not None:
            await self.analytics.track_model_usage(
                model_id,
                UsageData(
                    duration_s=seconds,
                    success=error is None,
                    at=metrics.at,
                    requested_model=None if lease.is_requested_model else lease.requested_model,
                    quality_issue=metrics.quality_issue,
                    commit=commit,
                    concurrent_loaded=max(1, _int(extra.get("concurrent_loaded")) or 1),
                    error=error,
                ),
            )
        if self.updater is not None:
            # A fresh version proves itself (or is rolled back) by the jobs that run on it.
            await self.updater.note_job(model_id, metrics.success, commit)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
