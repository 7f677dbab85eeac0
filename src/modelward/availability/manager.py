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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from modelward.analytics import ModelUsageAnalytics, TimePeriod
from modelward.analytics.cleanup import CleanupCandidate, CleanupResult, StorageConstraints
from modelward.availability.cleanup import (
    CleanupFacts,
    CleanupPlan,
    RetentionPolicy,
    arrived_at,
    plan_cleanup,
)
from modelward.availability.facts import USAGE_WINDOW_DAYS, ModelFacts, StatusFacts
from modelward.availability.requests import RequestQueue
from modelward.availability.requirements import GenerationRequirements
from modelward.availability.resolution import RemoteResolution
from modelward.availability.strategy import ModelRequestResult
from modelward.errors import HeldError, ModelPinnedError
from modelward.events import Event, EventBus, EventType
from modelward.health import ModelHealthMonitor
from modelward.status import (
    DetailedModelStatus,
    HealthFacts,
    ModelAvailabilityStatus,
    StoreFacts,
    look_at_store,
    model_status,
)
from modelward.store.look import NotKeptError
from modelward.store.manager import ModelManager
from modelward.store.pins import PinStore
from modelward.store.removal import removable_bytes, remove_target
from modelward.store.space import free_bytes
from modelward.transfer import EnhancedModelDownloader
from modelward.units import format_size

logger = logging.getLogger(__name__)

_ON_LOOP_MAX = 64
"""Statuses of up to this many models are derived on the event loop when every fact is
kept (beyond, the loop would be held too long: a worker thread does it)."""

_STATE_TRIGGERS = ("download.", "repair.", "file.verified", "health.checked", "model.removed")
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


class RequestHandler(Protocol):
    """Answers what a job for a model can use now (the fallback side decides; the runtime
    attaches it, so this manager never depends on the fallback manager)."""

    async def __call__(
        self, model_type: str, requirements: GenerationRequirements | None = None
    ) -> ModelRequestResult:
        """The model to run, or the strategy."""
        ...


class ModelAvailabilityManager:
    """Every model's state from facts; starting, ordering and cleaning up what needs it."""

    def __init__(
        self,
        model_manager: ModelManager,
        downloader: EnhancedModelDownloader,
        *,
        health: ModelHealthMonitor | None = None,
        requests: RequestQueue | None = None,
        analytics: ModelUsageAnalytics | None = None,
        bus: EventBus | None = None,
    ) -> None:
        """``ModelAvailabilityManager(model_manager, downloader)`` as the seed builds it;
        the monitor, request queue and usage figures not given share the downloader's
        database and event bus."""
        self.downloader = downloader
        self.manager = model_manager
        self.catalog = model_manager.catalog
        self.bus = bus or downloader.bus
        self._owns_health = health is None
        self.health = health or ModelHealthMonitor(model_manager, downloader)
        if requests is None:
            requests = RequestQueue(downloader.db, self.bus)
            requests.watch()
        self.requests = requests
        self.analytics = analytics or ModelUsageAnalytics(
            downloader.db, lambda: list(self.catalog.ids())
        )
        self.facts = StatusFacts(self.health, self.analytics, downloader.db.engine)
        """Records' facts kept for status reads."""
        self.resolution = RemoteResolution(downloader)
        """Resolves never-resolved models in the background (reads never ask the hub)."""
        self._answer: RequestHandler | None = None
        self._states: dict[str, tuple[ModelAvailabilityStatus, str | None]] = {}
        self._removing: set[str] = set()
        self.pins = PinStore(model_manager.home)
        self.cleanup_suggestions = True
        """False (the feature is off): nothing is suggested for removal by itself; a cleanup
        a person asks for is still planned and carried out."""
        self._dirty: set[str] = set()
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.watch()

    def attach_request_handler(self, handler: RequestHandler) -> None:
        """Let :meth:`handle_model_request` answer jobs (the fallback side is built on this
        manager, so the runtime attaches it afterwards)."""
        self._answer = handler

    @property
    def answers_requests(self) -> bool:
        """True once a request handler is attached."""
        return self._answer is not None

    async def status(
        self, model_id: str, *, resolve_remote: bool = False, hash_unknown: bool = True
    ) -> DetailedModelStatus:
        """One model's status, usage figures included (``hash_unknown``: see
        :func:`modelward.status.model_status`)."""
        [status] = await self.statuses(
            [model_id], resolve_remote=resolve_remote, hash_unknown=hash_unknown
        )
        return status

    async def statuses(
        self,
        model_ids: Iterable[str] | None = None,
        *,
        resolve_remote: bool = False,
        hash_unknown: bool = True,
    ) -> list[DetailedModelStatus]:
        """Each model's status (every catalog model's when None), in order: one look at the
        store and one read of the records for all of them, kept while nothing they come
        from changed (:mod:`modelward.store.look`, :mod:`modelward.availability.facts`)."""
        ids = list(model_ids) if model_ids is not None else list(self.catalog.ids())
        read = self._kept_facts(ids, hash_unknown) if len(ids) <= _ON_LOOP_MAX else None
        if read is None:
            read = await asyncio.to_thread(self._read_facts, ids, hash_unknown)
        looks, facts = read
        result = []
        for model_id, store, known in zip(ids, looks, facts, strict=True):
            health = HealthFacts(
                self.health.newest_deep(model_id, known.deep_check),
                known.performance_score,
            )
            status = await model_status(
                self.downloader,
                model_id,
                resolve_remote=resolve_remote,
                health=self.health,
                hash_unknown=hash_unknown,
                store=store,
                health_facts=health,
            )
            _add_usage_and_version(status, known)
            if store.local is None:
                _add_resolution_error(status, self.resolution)
            self._hide_if_removing(status)
            result.append(status)
        return result

    def _read_facts(
        self, model_ids: list[str], hash_unknown: bool, kept_only: bool = False
    ) -> tuple[list[StoreFacts], list[ModelFacts]]:
        """The store's looks and the records' facts of ``model_ids`` (blocking)."""
        self.manager.look.begin_pass()
        looks = [
            look_at_store(self.downloader, m, hash_unknown=hash_unknown, checked=True)
            for m in model_ids
        ]
        return looks, self.facts.of(model_ids, kept_only=kept_only)

    def _kept_facts(
        self, model_ids: list[str], hash_unknown: bool
    ) -> tuple[list[StoreFacts], list[ModelFacts]] | None:
        """The same from what is kept, on the event loop (directory stats only, no hop to
        a worker thread, which a running download keeps busy); None when anything must be
        read."""
        try:
            with self.manager.look.kept_only():
                return self._read_facts(model_ids, hash_unknown, kept_only=True)
        except NotKeptError:
            return None

    async def get_comprehensive_model_status(
        self, *, resolve_remote: bool = True
    ) -> dict[str, DetailedModelStatus]:
        """Every catalog model's status, keyed by id, in catalog order."""
        return {s.model_id: s for s in await self.statuses(resolve_remote=resolve_remote)}

    async def ensure_all_models_available(
        self, model_ids: Iterable[str] | None = None
    ) -> dict[str, ModelAvailabilityStatus]:
        """Start what each model needs (a download for a missing or failed one, a repair for
        a damaged one), most wanted first; a paused download stays paused (a person paused
        it). Returns each model's state afterwards."""
        wanted = list(model_ids) if model_ids is not None else [s.id for s in self.catalog]
        for model_id in wanted:
            self.catalog.get(model_id)
        statuses = {s.model_id: s for s in await self.statuses(wanted)}
        for model_id in _ranked_by_demand(statuses, await self._usage()):
            state = statuses[model_id].availability_status
            if state is ModelAvailabilityStatus.CORRUPTED:
                self.health.start_repair(model_id)
            elif state in _NEEDS_ACTION:
                await self.downloader.start_download(model_id)
        await self.prioritize_model_downloads()
        return {s.model_id: s.availability_status for s in await self.statuses(wanted)}

    async def prioritize_model_downloads(
        self, usage_analytics: ModelUsageData | None = None
    ) -> list[str]:
        """Order the download queue by demand: models jobs are waiting for first, then by
        use, then the one nearest to done. Returns the order of the models not yet ready
        (queued ones are moved in the queue; others follow in the same ranking)."""
        usage = usage_analytics or await self._usage()
        statuses = {s.model_id: s for s in await self.statuses()}
        not_ready = {m: s for m, s in statuses.items() if not s.is_available}
        order = _ranked_by_demand(not_ready, usage)
        queued = {e.model_id for e in await self.downloader.queue_entries()}
        for position, model_id in enumerate((m for m in order if m in queued), start=1):
            await self.downloader.move_in_queue(model_id, position)
        return order

    async def handle_model_request(
        self, model_type: str, requirements: GenerationRequirements | None = None
    ) -> ModelRequestResult:
        """What a job for ``model_type`` can use now: the model itself when it is ready and
        fits the job, else the fallback side's strategy (and a ready alternative when it
        names one). Decided by the handler the runtime attached."""
        if self._answer is None:
            raise RuntimeError("attach_request_handler() first")  # wiring bug, never user input
        return await self._answer(model_type, requirements)

    async def cleanup_unused_models(
        self, retention_policy: RetentionPolicy | None = None
    ) -> CleanupResult:
        """Remove local models nobody used within the policy's days, least used and oldest
        first, until the target free space is reached; never one in use, downloading,
        repairing, kept by the policy, or with jobs waiting for it. Dry run by default
        (:meth:`plan_cleanup`, then :meth:`CleanupPlan.execute` unless it is a dry run)."""
        policy = retention_policy or RetentionPolicy()
        plan = await self.plan_cleanup(policy)
        return plan.as_result() if policy.dry_run else await plan.execute()

    async def plan_cleanup(self, policy: RetentionPolicy) -> CleanupPlan:
        """What ``policy`` would remove now, and what it keeps with why; nothing changes
        until the plan's ``execute()``."""
        pinned = await asyncio.to_thread(self.pins.pinned)
        waiting = (await self._usage()).waiting_requests
        facts = []
        for spec, status in zip(self.catalog, await self.statuses(), strict=True):
            if status.present_bytes == 0:
                continue
            held = ("pinned" if spec.id in pinned else None) or self._busy(
                spec.id, waiting.get(spec.id, 0)
            )
            facts.append(
                CleanupFacts(
                    status,
                    await self._removable_bytes(spec.id),
                    await asyncio.to_thread(arrived_at, status.local_path),
                    held,
                )
            )
        return plan_cleanup(
            facts,
            policy,
            free_bytes=await self._free_bytes(),
            remover=self._remove,  # looks again at execution: the plan may be stale
            measure_free=self._free_bytes,
        )

    async def recommend_cleanup(self, constraints: StorageConstraints) -> CleanupResult:
        """A dry-run cleanup for ``constraints`` (the analytics' recommendation); an empty
        one saying why while cleanup suggestions are switched off."""
        if not self.cleanup_suggestions:
            return await self.no_suggestions()
        return await self.cleanup_unused_models(
            RetentionPolicy(
                keep_recent_days=constraints.keep_recent_days,
                target_free_bytes=constraints.target_free_bytes,
                keep=constraints.keep,
            )
        )

    async def no_suggestions(self) -> CleanupResult:
        """The empty cleanup suggestion given while cleanup suggestions are switched off."""
        free = await self._free_bytes()
        why = "cleanup suggestions are switched off"
        return CleanupResult(True, [], [], 0, free, free, why)

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
            raise HeldError(model_id, busy)
        status = await self.status(model_id, hash_unknown=False)
        size = await self._removable_bytes(model_id)
        entry = CleanupCandidate(
            model_id, size, status.last_used, status.usage_frequency, "asked to remove it"
        )
        free = await self._free_bytes()
        if size == 0:
            return CleanupResult(dry_run, [], [], 0, free, free, f"{model_id} has no files here")
        freed = size if dry_run else await self._remove(model_id)
        after = free + size if dry_run else await self._free_bytes()
        verb = "would free" if dry_run else "freed"
        return CleanupResult(
            dry_run, [entry], [], freed, free, after, f"{model_id}: {verb} {format_size(freed)}"
        )

    async def space_advice(self, model_id: str, short_bytes: int) -> str | None:
        """What could be removed to make ``short_bytes`` more room for ``model_id`` (the
        downloader adds it to its refusal); nothing while cleanup suggestions are off."""
        if not self.cleanup_suggestions:
            return None
        free = await self._free_bytes()
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
            f"{c.model_id} ({format_size(c.size_bytes)}, {c.reason})" for c in plan.removed
        )
        enough = "enough" if plan.freed_bytes >= short_bytes else "not enough on its own"
        return (
            f"Models that could go, least valuable first ({enough}): {names}; "
            "removing one frees its size."
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
        """Stop following events (and close the health monitor built here)."""
        await self.resolution.aclose()
        if self._owns_health:
            await self.health.aclose()
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
        # Never hashes: a changed file is a check's job. (The records it reads are kept, so
        # running after every event costs no database reads.)
        [status] = await self.statuses([model_id], hash_unknown=False)
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
                        "downloaded_bytes": status.downloaded_bytes,
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

    async def _free_bytes(self) -> int:
        return await asyncio.to_thread(free_bytes, self.manager.cache_dir)

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
                raise HeldError(model_id, busy)
            freed = await asyncio.to_thread(remove_target, layout, target, keep)
        finally:
            self._removing.discard(model_id)
        if self.bus is not None:
            self.bus.publish(Event(EventType.MODEL_REMOVED, model_id, {"freed_bytes": freed}))
        logger.info("removed %s (%d bytes)", model_id, freed)
        return freed


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


def _add_usage_and_version(status: DetailedModelStatus, facts: ModelFacts) -> None:
    """The usage figures (last 30 days) and the newest version known, from the records."""
    status.usage_frequency = round(facts.uses_per_day, 3)
    last = facts.last_used
    status.last_used = datetime.fromtimestamp(last, UTC) if last else None
    average = facts.average_generation_time
    status.average_generation_time = round(average, 3) if average is not None else None
    latest = facts.latest_version
    if latest:
        status.latest_version = latest
        status.update_available = bool(status.current_version and latest != status.current_version)


def _add_resolution_error(status: DetailedModelStatus, resolution: RemoteResolution) -> None:
    """Why a model never resolved here has no known files (the background resolution's
    last failure), unless the status already names an error."""
    error = resolution.error(status.model_id)
    missing = status.availability_status is ModelAvailabilityStatus.MISSING
    if error is not None and missing and status.error_code is None:
        status.error_code, status.error_message = error.code, error.message
        status.error_hint = error.hint
