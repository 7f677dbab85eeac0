"""The seed's ModelAvailabilityManager: one place that knows every model's state.

A model's state is derived, never stored: the files on disk and their records, the
download queue and its jobs, the health monitor's repairs and checks, and the generation
log's usage. After each event that can change those facts the model's state is derived
again, and a change is published as ``model.state`` so an app or the dashboard never has
to poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelward.analytics import ModelUsageAnalytics, TimePeriod
from modelward.analytics.cleanup import CleanupCandidate, CleanupResult, StorageConstraints
from modelward.availability.requests import RequestQueue
from modelward.availability.requirements import GenerationRequirements
from modelward.availability.strategy import ErrorContext, FallbackStrategy, FallbackType
from modelward.errors import ModelPinnedError, StoreLockedError
from modelward.events import Event, EventBus, EventType
from modelward.health import ModelHealthMonitor
from modelward.status import DetailedModelStatus, ModelAvailabilityStatus, model_status
from modelward.store.pins import PinStore
from modelward.store.removal import removable_bytes, remove_target
from modelward.store.space import free_bytes
from modelward.transfer import EnhancedModelDownloader
from modelward.updates.record import load_record

if TYPE_CHECKING:
    from modelward.availability.fallback import IntelligentFallbackManager

logger = logging.getLogger(__name__)

USAGE_WINDOW_DAYS = 30
"""Usage figures in a status cover the last 30 days."""
_STATE_TRIGGERS = ("download.", "repair.", "file.verified", "health.checked", "model.removed")
_ON_THE_WAY = (
    ModelAvailabilityStatus.QUEUED,
    ModelAvailabilityStatus.DOWNLOADING,
    ModelAvailabilityStatus.VERIFYING,
    ModelAvailabilityStatus.REPAIRING,
    ModelAvailabilityStatus.UPDATING,
)
_NEEDS_ACTION = (
    ModelAvailabilityStatus.MISSING,
    ModelAvailabilityStatus.FAILED,
    ModelAvailabilityStatus.CORRUPTED,
)


@dataclass(frozen=True, slots=True)
class ModelUsageData:
    """The seed's ModelUsageData: how much each model is wanted."""

    uses_per_day: Mapping[str, float] = field(default_factory=dict)
    waiting_requests: Mapping[str, int] = field(default_factory=dict)
    """Generation requests queued for each model."""


@dataclass(frozen=True, slots=True)
class ModelRequestResult:
    """The seed's ModelRequestResult: what a job asking for a model can use right now."""

    requested_model: str
    availability_status: ModelAvailabilityStatus
    """The requested model's state."""
    model_id: str | None
    """The model to run: the requested one, a ready alternative, or None."""
    path: str | None
    """That model's local snapshot folder."""
    strategy: FallbackStrategy | None = None
    """Why not the requested model, and what else would work."""
    upgrade: str | None = None
    """How to get the requested model when the job uses something else."""

    @property
    def success(self) -> bool:
        """True when a real model can run the job now."""
        return self.model_id is not None

    @property
    def is_mock(self) -> bool:
        """True when only the labelled mock can serve the job."""
        return (
            self.model_id is None
            and self.strategy is not None
            and self.strategy.strategy_type is FallbackType.MOCK_GENERATION
        )


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The seed's RetentionPolicy: which local models cleanup may remove."""

    keep_recent_days: float = 30.0
    """A model used within this many days stays."""
    target_free_bytes: int | None = None
    """Stop once this much is free on the store's disk (None: remove every candidate)."""
    keep: frozenset[str] = frozenset()
    """Models never to remove."""
    dry_run: bool = True


class ModelAvailabilityManager:
    """Every model's state from facts; starting, ordering and cleaning up what needs it."""

    def __init__(
        self,
        downloader: EnhancedModelDownloader,
        health: ModelHealthMonitor,
        requests: RequestQueue,
        analytics: ModelUsageAnalytics,
        *,
        bus: EventBus | None = None,
    ) -> None:
        self.downloader = downloader
        self.manager = downloader.manager
        self.catalog = downloader.manager.catalog
        self.health = health
        self.requests = requests
        self.analytics = analytics
        self.bus = bus
        self.fallback: IntelligentFallbackManager | None = None
        self._states: dict[str, tuple[ModelAvailabilityStatus, str | None]] = {}
        self._removing: set[str] = set()
        self.pins = PinStore(downloader.manager.home)
        self._dirty: set[str] = set()
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    def attach_fallback(self, fallback: IntelligentFallbackManager) -> None:
        """Let :meth:`handle_model_request` decide strategies (the fallback manager is
        built on this manager, so it is attached afterwards)."""
        self.fallback = fallback

    async def status(
        self, model_id: str, *, resolve_remote: bool = False, hash_unknown: bool = True
    ) -> DetailedModelStatus:
        """One model's status, usage figures included (``hash_unknown``: see
        :func:`modelward.status.model_status`)."""
        status = await model_status(
            self.downloader,
            model_id,
            resolve_remote=resolve_remote,
            health=self.health,
            hash_unknown=hash_unknown,
        )
        usage = await self.analytics.get_usage_statistics(
            TimePeriod.last_days(USAGE_WINDOW_DAYS, model_id=model_id)
        )
        status.usage_frequency = round(usage.uses_per_day, 3)
        status.last_used = datetime.fromtimestamp(usage.last_used, UTC) if usage.last_used else None
        status.average_generation_time = (
            round(usage.average_generation_time, 3) if usage.success_rate > 0 else None
        )
        record = await asyncio.to_thread(load_record, self.manager.home, model_id)
        if record.latest:
            status.latest_version = record.latest
            status.update_available = bool(
                status.current_version and record.latest != status.current_version
            )
        self._hide_if_removing(status)
        return status

    async def get_comprehensive_model_status(
        self, *, resolve_remote: bool = True
    ) -> dict[str, DetailedModelStatus]:
        """Every catalog model's status, keyed by id, in catalog order."""
        return {
            spec.id: await self.status(spec.id, resolve_remote=resolve_remote)
            for spec in self.catalog
        }

    async def ensure_all_models_available(
        self, model_ids: Iterable[str] | None = None
    ) -> dict[str, ModelAvailabilityStatus]:
        """Start what each model needs (a download for a missing or failed one, a repair for
        a damaged one), most wanted first; a paused download stays paused (a person paused
        it). Returns each model's state afterwards."""
        wanted = list(model_ids) if model_ids is not None else [s.id for s in self.catalog]
        for model_id in wanted:
            self.catalog.get(model_id)
        statuses = {m: await self.status(m) for m in wanted}
        for model_id in _ranked_by_demand(statuses, await self._usage()):
            state = statuses[model_id].availability_status
            if state is ModelAvailabilityStatus.CORRUPTED:
                self.health.start_repair(model_id)
            elif state in _NEEDS_ACTION:
                await self.downloader.start_download(model_id)
        await self.prioritize_model_downloads()
        return {m: (await self.status(m)).availability_status for m in wanted}

    async def prioritize_model_downloads(
        self, usage_analytics: ModelUsageData | None = None
    ) -> list[str]:
        """Order the download queue by demand: models jobs are waiting for first, then by
        use, then the one nearest to done. Returns the order of the models not yet ready
        (queued ones are moved in the queue; others follow in the same ranking)."""
        usage = usage_analytics or await self._usage()
        statuses = {spec.id: await self.status(spec.id) for spec in self.catalog}
        not_ready = {m: s for m, s in statuses.items() if not s.is_available}
        order = _ranked_by_demand(not_ready, usage)
        queued = {e.model_id for e in await self.downloader.queue_entries()}
        for position, model_id in enumerate(m for m in order if m in queued):
            await self.downloader.move_in_queue(model_id, position)
        return order

    async def handle_model_request(
        self, model_type: str, requirements: GenerationRequirements | None = None
    ) -> ModelRequestResult:
        """What a job for ``model_type`` can use now: the model itself when ready, else the
        fallback manager's strategy (and a ready alternative when it names one)."""
        self.catalog.get(model_type)
        status = await self.status(model_type)
        state = status.availability_status
        if status.is_available:
            return ModelRequestResult(model_type, state, model_type, status.local_path)
        if self.fallback is None:
            raise RuntimeError("attach_fallback() first")  # wiring bug, never user input
        strategy = await self.fallback.get_fallback_strategy(
            model_type, ErrorContext(requirements or GenerationRequirements())
        )
        upgrade = (
            f"{model_type} is {state.value}: {_how_to_get(model_type, state)}; new jobs use "
            "it as soon as it is ready, without a restart"
        )
        if strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL and strategy.alternative_model:
            alt = await self.status(strategy.alternative_model)
            if alt.is_available:
                return ModelRequestResult(
                    model_type, state, alt.model_id, alt.local_path, strategy, upgrade
                )
        return ModelRequestResult(model_type, state, None, None, strategy, upgrade)

    async def cleanup_unused_models(
        self, retention_policy: RetentionPolicy | None = None
    ) -> CleanupResult:
        """Remove local models nobody used within the policy's days, least used and oldest
        first, until the target free space is reached; never one in use, downloading,
        repairing, kept by the policy, or with jobs waiting for it. Dry run by default."""
        policy = retention_policy or RetentionPolicy()
        pinned = await asyncio.to_thread(self.pins.pinned)
        now = time.time()
        waiting = (await self._usage()).waiting_requests
        candidates: list[tuple[tuple[float, float, int], CleanupCandidate]] = []
        kept: list[CleanupCandidate] = []
        for spec in self.catalog:
            status = await self.status(spec.id)
            if status.present_bytes == 0:
                continue
            arrived = await asyncio.to_thread(_mtime, status.local_path)
            why_kept = (
                ("pinned" if spec.id in pinned else None)
                or self._busy(spec.id, waiting.get(spec.id, 0))
                or _kept_because(status, policy, now, arrived)
            )
            used = status.last_used
            entry = CleanupCandidate(
                spec.id,
                await self._removable_bytes(spec.id),
                used,
                status.usage_frequency,
                why_kept or _removal_reason(used, now),
            )
            if why_kept:
                kept.append(entry)
            else:
                rank = (
                    used.timestamp() if used else 0.0,
                    status.usage_frequency,
                    -entry.size_bytes,
                )
                candidates.append((rank, entry))
        candidates.sort(key=lambda ranked: (ranked[0], ranked[1].model_id))
        free_before = await asyncio.to_thread(free_bytes, self.manager.cache_dir)
        chosen: list[CleanupCandidate] = []
        projected = free_before
        for _rank, entry in candidates:
            if policy.target_free_bytes is not None and projected >= policy.target_free_bytes:
                kept.append(_with_reason(entry, "the target free space is reached without it"))
                continue
            chosen.append(entry)
            projected += entry.size_bytes
        freed = 0
        if not policy.dry_run:
            removed = []
            for entry in chosen:
                try:
                    # _remove looks again (the plan may be stale) and refuses what is held.
                    freed += await self._remove(entry.model_id)
                except _HeldError as held:
                    kept.append(_with_reason(entry, held.reason))
                    continue
                removed.append(entry)
            chosen = removed
        after = (
            projected
            if policy.dry_run
            else await asyncio.to_thread(free_bytes, self.manager.cache_dir)
        )
        planned = sum(e.size_bytes for e in chosen)
        verb = "would free" if policy.dry_run else "freed"
        message = (
            f"{len(chosen)} model(s), {verb} {(planned if policy.dry_run else freed) / 1e9:.2f} GB"
            if chosen
            else "nothing to remove under this policy"
        )
        return CleanupResult(
            dry_run=policy.dry_run,
            removed=chosen,
            kept=kept,
            freed_bytes=planned if policy.dry_run else freed,
            free_bytes_before=free_before,
            free_bytes_after=after,
            message=message,
        )

    async def plan_cleanup(self, constraints: StorageConstraints) -> CleanupResult:
        """A dry-run cleanup for ``constraints`` (the analytics' recommendation)."""
        return await self.cleanup_unused_models(
            RetentionPolicy(
                keep_recent_days=constraints.keep_recent_days,
                target_free_bytes=constraints.target_free_bytes,
                keep=constraints.keep,
            )
        )

    async def pin_model(self, model_id: str, pinned: bool = True) -> bool:
        """Keep ``model_id`` locally whatever cleanup decides (``pinned=False`` undoes it);
        returns whether anything changed."""
        self.catalog.get(model_id)
        change = self.pins.pin if pinned else self.pins.unpin
        changed = await asyncio.to_thread(change, model_id)
        if changed and self.bus is not None:
            self.bus.publish(Event(EventType.MODEL_PINNED, model_id, {"pinned": pinned}))
        return changed

    async def remove_model(self, model_id: str, *, dry_run: bool = True) -> CleanupResult:
        """Remove one model's local files (what it shares with other models stays); a dry
        run says what would be freed. Refuses a pinned, used, busy or waited-for model."""
        self.catalog.get(model_id)
        if await asyncio.to_thread(self.pins.is_pinned, model_id):
            raise ModelPinnedError(f"{model_id} is pinned: cleanup and rm leave it alone")
        busy = self._busy(model_id, len(await self.requests.pending(model_id)))
        if busy:
            raise _HeldError(model_id, busy)
        status = await self.status(model_id, hash_unknown=False)
        size = await self._removable_bytes(model_id)
        entry = CleanupCandidate(
            model_id, size, status.last_used, status.usage_frequency, "asked to remove it"
        )
        free = await asyncio.to_thread(free_bytes, self.manager.cache_dir)
        if size == 0:
            return CleanupResult(dry_run, [], [], 0, free, free, f"{model_id} has no files here")
        freed = size if dry_run else await self._remove(model_id)
        after = (
            free + size if dry_run else await asyncio.to_thread(free_bytes, self.manager.cache_dir)
        )
        verb = "would free" if dry_run else "freed"
        return CleanupResult(
            dry_run, [entry], [], freed, free, after, f"{model_id}: {verb} {freed / 1e9:.2f} GB"
        )

    async def space_advice(self, model_id: str, short_bytes: int) -> str | None:
        """What could be removed to make ``short_bytes`` more room for ``model_id`` (the
        downloader adds it to its refusal)."""
        free = await asyncio.to_thread(free_bytes, self.manager.cache_dir)
        # Recently used models count too: a person deciding needs every option, ranked.
        plan = await self.cleanup_unused_models(
            RetentionPolicy(
                keep_recent_days=0,
                target_free_bytes=free + short_bytes,
                keep=frozenset({model_id}),
            )
        )
        if not plan.removed:
            return None
        names = ", ".join(
            f"{c.model_id} ({c.size_bytes / 1e9:.1f} GB, {c.reason})" for c in plan.removed
        )
        enough = "enough" if plan.freed_bytes >= short_bytes else "not enough on its own"
        return (
            f"Models that could go, least valuable first ({enough}): {names}; "
            f"`modelward rm MODEL` removes one."
        )

    def watch(self) -> None:
        """Publish ``model.state`` whenever a model's derived state changes."""
        if self.bus is None or self._unsubscribe:
            return
        self._unsubscribe.append(self.bus.subscribe(self._on_event))

    def known_state(self, model_id: str) -> ModelAvailabilityStatus | None:
        """The state last derived for ``model_id`` (None before any event about it)."""
        known = self._states.get(model_id)
        return known[0] if known else None

    async def settle(self) -> None:
        """Wait until every pending state derivation is done (tests, shutdown)."""
        if self._idle is not None:
            await self._idle.wait()

    async def aclose(self) -> None:
        """Stop following events."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        self._dirty.clear()
        if self._idle is not None:
            self._idle.set()

    def _on_event(self, event: Event) -> None:
        if event.model_id is None or event.model_id not in self.catalog:
            return
        if not event.type.startswith(_STATE_TRIGGERS):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # published off the loop: the next event on it derives the state
        self._dirty.add(event.model_id)
        if self._wakeup is None or self._idle is None:
            self._wakeup, self._idle = asyncio.Event(), asyncio.Event()
        self._idle.clear()
        self._wakeup.set()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._derive_states())

    async def _derive_states(self) -> None:
        assert self._wakeup is not None and self._idle is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._dirty:
                model_id = min(self._dirty)
                self._dirty.discard(model_id)
                try:
                    await self._derive(model_id)
                except Exception:
                    logger.exception("cannot derive the state of %s", model_id)
            self._idle.set()

    async def _derive(self, model_id: str) -> None:
        # Only what the state needs (no usage or version records: this runs after every
        # event), and never hashes: a changed file is a check's job.
        status = await model_status(
            self.downloader, model_id, resolve_remote=False, health=self.health, hash_unknown=False
        )
        self._hide_if_removing(status)
        state = status.availability_status
        before = self._states.get(model_id)
        if before == (state, status.local_path):
            return  # a new local path (another version) is news even in the same state
        previous = before[0] if before else None
        self._states[model_id] = (state, status.local_path)
        if self.bus is not None:
            self.bus.publish(
                Event(
                    EventType.MODEL_STATE,
                    model_id,
                    {
                        "state": state.value,
                        "previous": previous.value if previous else None,
                        "is_available": status.is_available,
                        "local_path": status.local_path,
                        "download_progress": status.download_progress,
                    },
                )
            )

    async def _usage(self) -> ModelUsageData:
        period = TimePeriod.last_days(USAGE_WINDOW_DAYS)
        per_day = {
            s.model_id: s.uses_per_day for s in await self.analytics.statistics_by_model(period)
        }
        waiting: dict[str, int] = {}
        for request in await self.requests.pending():
            waiting[request.model_id] = waiting.get(request.model_id, 0) + 1
        return ModelUsageData(per_day, waiting)

    def _hide_if_removing(self, status: DetailedModelStatus) -> None:
        # Files being deleted are no model to hand out, whatever is still on disk.
        if status.model_id in self._removing:
            status.is_available, status.local_path = False, None
            status.availability_status = ModelAvailabilityStatus.MISSING

    def is_removing(self, model_id: str) -> bool:
        """True while ``model_id``'s files are being removed."""
        return model_id in self._removing

    def _busy(self, model_id: str, waiting: int) -> str | None:
        """Why ``model_id`` must not be removed now (None: nothing holds it)."""
        if self.manager.in_use(model_id):
            return "in use by a job"
        if waiting:
            return f"{waiting} queued job(s) wait for it"
        if self.downloader.is_running(model_id):
            return "downloading now"
        if model_id in self.health.repairing:
            return "repairing now"
        return None

    async def _removable_bytes(self, model_id: str) -> int:
        target = await asyncio.to_thread(self.manager.known_target, model_id)
        if target is None:
            return 0
        layout = self.manager.repo_layout(target.repo_id)
        keep = await asyncio.to_thread(self.manager.paths_used_by_others, model_id, target)
        return await asyncio.to_thread(removable_bytes, layout, target, keep)

    async def _remove(self, model_id: str) -> int:
        target = await asyncio.to_thread(self.manager.known_target, model_id)
        if target is None:
            return 0
        layout = self.manager.repo_layout(target.repo_id)
        # Marked first, checked after, with no await between the check and the removal
        # starting: a job either saw the mark or is seen holding the model here.
        self._removing.add(model_id)
        try:
            keep = await asyncio.to_thread(self.manager.paths_used_by_others, model_id, target)
            pinned = await asyncio.to_thread(self.pins.is_pinned, model_id)
            waiting = len(await self.requests.pending(model_id))
            busy = ("pinned" if pinned else None) or self._busy(model_id, waiting)
            if busy:
                raise _HeldError(model_id, busy)
            freed = await asyncio.to_thread(remove_target, layout, target, keep)
        finally:
            self._removing.discard(model_id)
        if self.bus is not None:
            self.bus.publish(Event(EventType.MODEL_REMOVED, model_id, {"freed_bytes": freed}))
        logger.info("removed %s (%d bytes)", model_id, freed)
        return freed


class _HeldError(StoreLockedError):
    """A model something holds (a job, a download, queued requests, a pin) cannot go."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(
            f"{model_id} cannot be removed now: {reason}",
            hint="Wait until it is free (or cancel what holds it), then run again.",
        )
        self.reason = reason


def _mtime(path: str | None) -> float | None:
    if path is None:
        return None
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None


def _ranked_by_demand(
    statuses: Mapping[str, DetailedModelStatus], usage: ModelUsageData
) -> list[str]:
    """Jobs waiting first, then use, then the model nearest to done."""
    return sorted(
        statuses,
        key=lambda m: (
            -usage.waiting_requests.get(m, 0),
            -usage.uses_per_day.get(m, 0.0),
            max(0, statuses[m].size_bytes - statuses[m].present_bytes),
            m,
        ),
    )


def _kept_because(
    status: DetailedModelStatus, policy: RetentionPolicy, now: float, arrived: float | None
) -> str | None:
    state = status.availability_status
    if status.model_id in policy.keep:
        return "kept by the policy"
    if state in _ON_THE_WAY:
        return f"{state.value} now"
    if not status.is_available:
        return f"{state.value}: a partial download (`modelward cancel {status.model_id}` frees it)"
    keep_s = policy.keep_recent_days * 86_400
    if status.last_used is None and arrived is not None and now - arrived < keep_s:
        days = (now - arrived) / 86_400
        return f"arrived {days:.1f} days ago and not used yet"
    used = status.last_used
    if used is not None and now - used.timestamp() < keep_s:
        days = (now - used.timestamp()) / 86_400
        return f"used {days:.1f} days ago (keep-recent is {policy.keep_recent_days:g} days)"
    return None


def _how_to_get(model_id: str, state: ModelAvailabilityStatus) -> str:
    if state is ModelAvailabilityStatus.PAUSED:
        return f"`modelward resume {model_id}` continues it"
    if state is ModelAvailabilityStatus.CORRUPTED:
        return f"`modelward repair {model_id}` mends it"
    if state in _ON_THE_WAY:
        return "it is on its way"
    return f"`modelward pull {model_id}` fetches it"


def _removal_reason(used: datetime | None, now: float) -> str:
    if used is None:
        return "never used by a job"
    return f"last used {used:%Y-%m-%d} ({(now - used.timestamp()) / 86_400:.1f} days ago)"


def _with_reason(entry: CleanupCandidate, reason: str) -> CleanupCandidate:
    return CleanupCandidate(
        entry.model_id, entry.size_bytes, entry.last_used, entry.uses_per_day, reason
    )
