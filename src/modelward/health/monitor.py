"""The seed's ModelHealthMonitor: integrity and performance of catalog models, checks at
start and on a schedule, the system health report, and repair."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine

from modelward.actions import Action
from modelward.db import Database
from modelward.errors import ModelwardError, StoreLockedError
from modelward.events import Event, EventBus, EventType
from modelward.health.checker import (
    IntegrityResult,
    VerifyLevel,
    check_integrity,
)
from modelward.health.follow import RepairFollower, follow_repair
from modelward.health.history import HealthHistory
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.parts import MonitorParts
from modelward.health.performance import (
    GenerationLog,
    GenerationMetrics,
    PerformanceHealth,
    assess_performance,
)
from modelward.health.policy import HealthPolicy
from modelward.health.quarantine import Quarantine
from modelward.health.repair import RepairPlan, prepare_repair, repairable_ranges
from modelward.health.report import (
    HealthCondition,
    ModelFacts,
    StorageFacts,
    SystemHealthReport,
    build_report,
    model_health,
)
from modelward.health.results import CorruptedFile, CorruptionReport, RepairResult
from modelward.health.schedule import HealthScheduler, UsagePattern
from modelward.ops.audit import AuditLog
from modelward.ops.selfstarted import (
    AUTOMATION,
    REPAIR,
    SCHEDULER,
    START_DOWNLOAD,
    VERIFY,
    record_self_started,
)
from modelward.sources import RemoteFile, Target
from modelward.store.layout import RepoLayout
from modelward.store.manager import ModelManager
from modelward.store.records import read_json, write_json_atomic
from modelward.store.space import disk_usage
from modelward.transfer import DownloadStatus, EnhancedModelDownloader

logger = logging.getLogger(__name__)

_PULL_OVER = frozenset(s.value for s in (DownloadStatus.COMPLETED, DownloadStatus.CANCELLED))
"""Where a pull ends; paused or failed, it goes on (resumed) with what it fetched so far."""
USAGE_WINDOW_S = 28 * 24 * 3600.0
"""How far back generations count when finding quiet hours."""


class ModelHealthMonitor:
    """Checks what the store holds for each model, offline (from the recorded manifest),
    judges generation performance, and repairs through the downloader."""

    def __init__(
        self,
        manager: ModelManager | None = None,
        downloader: EnhancedModelDownloader | None = None,
        quarantine: Quarantine | None = None,
        *,
        db: Database | None = None,
        bus: EventBus | None = None,
        policy: HealthPolicy | None = None,
    ) -> None:
        """``ModelHealthMonitor()`` as the seed builds it: what is not given comes from the
        downloader (its database and bus) and the settings (store, quarantine, policy)."""
        parts = MonitorParts.build(manager, downloader, quarantine)
        self.manager, self.downloader = parts.manager, parts.downloader
        self.quarantine = parts.quarantine
        self._owns_downloader = parts.owns_downloader
        self.policy = policy or HealthPolicy.from_settings(parts.settings)
        db = db or self.downloader.db
        bus = bus or self.downloader.bus
        self.history = HealthHistory(db)
        self.generations = GenerationLog(db)
        self.bus = bus
        self.last_results: dict[str, IntegrityResult] = {}
        """The latest result per model in this process, shown with its age (``checked_at``)."""
        self.repairing: set[str] = set()
        """Models a repair is running for."""
        self._performance: dict[str, PerformanceHealth] = {}
        self._background: set[asyncio.Task[object]] = set()
        self._scheduler: HealthScheduler | None = None
        self._schedule_record = self.manager.home / "records" / "scheduled-checks.json"
        self._fetched: set[str] = set()
        """Models whose pull (across pauses and resumes) has fetched, so hashed, a file."""
        self.follower = RepairFollower(self.manager, self.quarantine, self._spawn)
        """Which running downloads finish an interrupted repair (a repair follows them)."""
        self._unsubscribe = bus.subscribe(self._on_download_event)
        self.downloader.repairs.attach(self)  # the seed asks the downloader for repairs
        self.audit: AuditLog | None = None
        """Where checks and repairs started by the schedule or automation are recorded."""

    async def check_model_integrity(
        self,
        model_id: str,
        level: VerifyLevel = VerifyLevel.STRUCTURAL,
        on_hashed: Callable[[int], None] | None = None,
    ) -> IntegrityResult:
        """Check ``model_id``'s files at ``level`` (hashing runs off the event loop);
        ``on_hashed`` hears of each chunk the full level hashes (from worker threads)."""
        result, _target = await self._check(model_id, level, on_hashed)
        return result

    async def detect_corruption(self, model_id: str) -> CorruptionReport:
        """Fully check ``model_id`` and, for each damaged file, find the blocks a repair
        would fetch (missing files are not corruption; a download fetches them)."""
        check, target = await self._check(model_id, VerifyLevel.FULL, compare_blocks=True)
        files: list[CorruptedFile] = []
        for layout, _target, issue, file in self._damaged(check, target):
            ranges = await asyncio.to_thread(repairable_ranges, layout, file)
            files.append(CorruptedFile(issue.path, issue.kind, issue.detail, ranges))
        return CorruptionReport(model_id, bool(files), tuple(files), check.checked_at)

    async def verify_and_repair_model(self, model_id: str) -> RepairResult:
        """Fully check ``model_id``; quarantine each damaged file and fetch only its damaged
        blocks (the whole file without a block table); missing files are fetched too.
        While the restored queue finishes an interrupted repair, this follows it."""
        return await self._run_repair(model_id, self._claim_repair(model_id))

    def start_repair(self, model_id: str) -> asyncio.Task[object]:
        """Start ``verify_and_repair_model`` in the background (it reports on the event
        stream); refuses at once, like it, when a repair or download of the model runs
        (a download finishing an interrupted repair is followed instead)."""
        return self._spawn(
            self._run_repair(model_id, self._claim_repair(model_id)), f"repair {model_id}"
        )

    def _claim_repair(self, model_id: str) -> Coroutine[object, object, RepairResult]:
        """Mark the model as repairing and return the repair's work: a fresh repair, or,
        while the download queue finishes an interrupted one, following that download."""
        self.manager.spec(model_id)
        if model_id in self.repairing:
            raise StoreLockedError(
                f"a repair of {model_id} is already running",
                hint="Wait for it to finish; its progress is on the event stream.",
            )
        if not self.downloader.is_running(model_id):
            self.repairing.add(model_id)
            return self._repair(model_id)
        # Small records only, and only while the model downloads: read on the loop, so a
        # refusal stays immediate (start_repair answers at once).
        pending = self.follower.pending(model_id)
        if pending is None:
            raise StoreLockedError(
                f"{model_id} is downloading; a repair would race with it",
                hint="Wait for the download to finish (it verifies every file), "
                "or pause it first, then repair.",
            )
        self.repairing.add(model_id)
        return follow_repair(self.downloader, model_id, pending, self.check_model_integrity)

    async def _run_repair(
        self, model_id: str, work: Coroutine[object, object, RepairResult]
    ) -> RepairResult:
        self._emit(EventType.REPAIR_STARTED, model_id)
        try:
            result = await work
        except BaseException as exc:
            # The stream must not show a repair running forever.
            self._emit(EventType.REPAIR_FINISHED, model_id, success=False, error=str(exc))
            raise
        finally:
            self.repairing.discard(model_id)
        self._emit(
            EventType.REPAIR_FINISHED,
            model_id,
            success=result.success,
            bytes_fetched=result.bytes_fetched,
            files=[p.path for p in result.plans],
            error=result.error_message,
        )
        return result

    async def _repair(self, model_id: str) -> RepairResult:
        # Blocks are compared in the same pass, so a 30 GB shard is not read twice.
        check, target = await self._check(model_id, VerifyLevel.FULL, compare_blocks=True)
        if check.is_healthy:
            return RepairResult(model_id, True, (), (), 0)
        try:
            # Nothing is taken apart unless the good bytes can be fetched now.
            await self.downloader.source(model_id).resolve(self.manager.spec(model_id))
        except ModelwardError as error:
            return RepairResult(
                model_id,
                False,
                check.issues,
                (),
                0,
                error.message,
                f"{error.hint or ''} Nothing was changed; repair again once the source "
                "is reachable.".strip(),
            )
        if self.downloader.is_running(model_id):  # started during the full check
            pending = await asyncio.to_thread(self.follower.pending, model_id)
            if pending is not None:  # the restored queue finishing an interrupted repair
                return await follow_repair(
                    self.downloader, model_id, pending, self.check_model_integrity
                )
            raise StoreLockedError(
                f"{model_id} started downloading while it was being checked",
                hint="Wait for the download to finish (it verifies every file), then repair.",
            )
        plans: list[RepairPlan] = []
        # Missing files need no quarantine: the download below fetches them.
        for layout, known, issue, file in self._damaged(check, target):
            reason = f"{issue.kind.value}: {issue.detail}"
            plans.append(
                await asyncio.to_thread(
                    prepare_repair, layout, known, file, self.quarantine, reason
                )
            )
        download = await self.downloader.download_with_retry(model_id)
        after = await self.check_model_integrity(model_id, VerifyLevel.STRUCTURAL)
        return RepairResult(
            model_id,
            download.success and after.is_healthy,
            check.issues,
            tuple(plans),
            download.bytes_fetched,
            download.error_message,
            download.error_hint,
        )

    async def monitor_model_performance(
        self, model_id: str, generation_metrics: GenerationMetrics
    ) -> PerformanceHealth:
        """Record one generation of ``model_id`` and judge its recent generations against
        its own baseline; a model that turns degraded gets a structural check at once."""
        self.manager.spec(model_id)
        await asyncio.to_thread(self.generations.add, model_id, generation_metrics)
        before = self._performance.get(model_id)
        health = await self.performance_health(model_id)
        if health.is_degraded and not (before and before.is_degraded):
            # Damaged weights are one cause of slow or failing generations; rule it out.
            await self.check_model_integrity(model_id, VerifyLevel.STRUCTURAL)
        self._emit(
            EventType.HEALTH_PERFORMANCE,
            model_id,
            status=health.status.value,
            performance_score=health.performance_score,
            changed=before is None or before.status is not health.status,
            reasons=list(health.reasons),
            suggestions=list(health.suggestions),
        )
        return health

    async def performance_health(self, model_id: str) -> PerformanceHealth:
        """``model_id``'s performance against its baseline, from the recorded generations."""
        self.manager.spec(model_id)
        limits = self.policy.thresholds
        history = await asyncio.to_thread(
            self.generations.history, model_id, limits.window + 20 * limits.min_baseline
        )
        health = assess_performance(model_id, history, limits)
        self._performance[model_id] = health
        return health

    async def schedule_health_checks(self) -> None:
        """Start checking in the background and return: quick and structural checks of
        every model now (when the policy says so), then a check at the policy's level every
        interval, moved to a quiet hour once usage is known; findings are acted on per the
        automation."""
        if self._scheduler is None:
            self._scheduler = HealthScheduler(
                at_start=self.check_all if self.policy.at_start else None,
                scheduled=self.run_scheduled_checks,
                interval_s=self.policy.interval_s,
                last_run=self.last_scheduled_run,
                usage=self.usage_pattern,
            )
        self._scheduler.start()

    async def set_policy(self, policy: HealthPolicy) -> None:
        """Follow ``policy`` from now on (a new interval reschedules the checks)."""
        interval_changed = policy.interval_s != self.policy.interval_s
        self.policy = policy
        if interval_changed and self._scheduler is not None:
            await self._scheduler.reschedule(policy.interval_s)

    @property
    def scheduling(self) -> bool:
        """True while scheduled checks run in the background."""
        return self._scheduler is not None and self._scheduler.running

    @property
    def next_scheduled_check(self) -> float | None:
        """When the next scheduled check starts (None when none is planned)."""
        return self._scheduler.next_run_at if self._scheduler else None

    async def check_all(self) -> dict[str, IntegrityResult]:
        """Quick and structural check of every catalog model, then act on the findings."""
        return await self._check_each(VerifyLevel.STRUCTURAL, absent_too=True)

    async def run_scheduled_checks(self) -> dict[str, IntegrityResult]:
        """Check every downloaded model at the policy's level, then act on the findings."""
        results = await self._check_each(self.policy.level, absent_too=False)
        await asyncio.to_thread(
            write_json_atomic, self._schedule_record, {"last_run": time.time()}, durable=False
        )
        return results

    async def last_scheduled_run(self) -> float | None:
        """When the last scheduled round ended (in any process); checks run by hand or at
        start do not count, or daily restarts would put off scheduled rounds for ever."""
        data = await asyncio.to_thread(read_json, self._schedule_record)
        value = data.get("last_run") if isinstance(data, dict) else None
        return float(value) if isinstance(value, int | float) else None

    async def usage_pattern(self) -> UsagePattern | None:
        """Generations per hour of the day over the last weeks, once there are any."""
        hourly, days = await asyncio.to_thread(
            self.generations.hourly_counts, time.time() - USAGE_WINDOW_S
        )
        return UsagePattern(tuple(hourly), days) if days else None

    async def get_health_report(self) -> SystemHealthReport:
        """Every catalog model's condition now (a quick check, which names what deeper
        checks found in files unchanged since), the age of its latest deeper check, its
        performance, disk usage and what to do, most urgent first."""
        saved = await asyncio.to_thread(self.history.latest, deep_only=True)
        facts = []
        for model_id in self.manager.catalog.ids():
            now = None  # nothing on disk: not downloaded, as its status says
            if await asyncio.to_thread(self.manager.target_on_disk, model_id) is not None:
                now, _target = await self._check(model_id, VerifyLevel.QUICK, save=False)
            facts.append(
                ModelFacts(
                    model_id,
                    now,
                    self.newest_deep(model_id, saved.get(model_id)),
                    await self.performance_health(model_id),
                    repairing=model_id in self.repairing,
                    downloading=self.downloader.is_running(model_id),
                )
            )
        storage = await asyncio.to_thread(self._storage)
        return build_report(facts, storage, absent_advice=self.policy.automation != "off")

    async def join_background(self) -> None:
        """Wait until the repairs that automation started have ended."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def last_deep_check(self, model_id: str) -> IntegrityResult | None:
        """The model's latest check deeper than stat (a verified pull counts: it hashed
        what it fetched), from this process or the database."""
        saved = await asyncio.to_thread(self.history.latest_for, model_id)
        return self.newest_deep(model_id, saved)

    def newest_deep(self, model_id: str, saved: IntegrityResult | None) -> IntegrityResult | None:
        """The newer of this process's deep result and ``saved`` (the database's)."""
        # A result of this process may not have reached the database yet (saved off the loop).
        here = self.last_results.get(model_id)
        mine = here if here is not None and here.level is not VerifyLevel.QUICK else None
        candidates = [r for r in (mine, saved) if r is not None]
        return max(candidates, key=lambda r: r.checked_at) if candidates else None

    async def aclose(self) -> None:
        """Stop scheduled checks and background repairs."""
        self._unsubscribe()
        if self._scheduler is not None:
            await self._scheduler.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._owns_downloader:
            await self.downloader.aclose()

    async def _check_each(
        self, level: VerifyLevel, *, absent_too: bool
    ) -> dict[str, IntegrityResult]:
        results: dict[str, IntegrityResult] = {}
        for model_id in self.manager.catalog.ids():
            if self.downloader.is_running(model_id) or model_id in self.repairing:
                continue  # its files are changing; the job verifies them itself
            try:
                known = await asyncio.to_thread(self.manager.target_on_disk, model_id)
                if known is None:
                    if absent_too:
                        await self._act(model_id, HealthCondition.ABSENT)
                    continue
                result = await self.check_model_integrity(model_id, level)
            except (ModelwardError, OSError) as exc:
                # One model's trouble (an unreadable records folder, a vanished disk) must
                # not leave the others unchecked.
                logger.warning("health check of %s failed: %s", model_id, exc)
                failed = exc if isinstance(exc, ModelwardError) else None
                await record_self_started(
                    self.audit, SCHEDULER, VERIFY, model_id, error=failed, outcome="failed"
                )
                continue
            results[model_id] = result
            deep = result if level is not VerifyLevel.QUICK else None
            condition = model_health(ModelFacts(model_id, result, deep, None)).condition
            await record_self_started(
                self.audit,
                SCHEDULER,
                VERIFY,
                model_id,
                params={"level": level.value, "condition": condition.value},
            )
            await self._act(model_id, condition)
        return results

    async def _act(self, model_id: str, condition: HealthCondition) -> None:
        """Do what the automation setting says about a model found in ``condition``."""
        if condition is HealthCondition.CORRUPTED:
            action = Action.REPAIR
        elif condition in (HealthCondition.INCOMPLETE, HealthCondition.ABSENT):
            action = Action.DOWNLOAD
        else:
            return
        entry = self.downloader.queue.get(model_id)
        if entry is not None and entry.status is DownloadStatus.PAUSED:
            return  # a person paused it: that choice stands
        mode = self.policy.automation
        if mode == "ask":
            self._emit(
                EventType.HEALTH_PROPOSED,
                model_id,
                condition=condition.value,
                action=action.value,
            )
        elif mode == "auto":
            await self._start_by_itself(model_id, condition)

    async def _start_by_itself(self, model_id: str, condition: HealthCondition) -> None:
        """Start the repair (or download) automation decided on, and record it."""
        repair = condition is HealthCondition.CORRUPTED
        action = REPAIR if repair else START_DOWNLOAD
        try:
            if repair:
                self.start_repair(model_id)
            else:
                await self.downloader.start_download(model_id)
        except ModelwardError as error:
            await record_self_started(self.audit, AUTOMATION, action, model_id, error=error)
            raise
        params = {"condition": condition.value}
        await record_self_started(self.audit, AUTOMATION, action, model_id, params=params)

    def _spawn(self, work: Coroutine[object, object, object], name: str) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)
        return task

    def _storage(self) -> StorageFacts:
        return StorageFacts(disk_usage(self.manager.cache_dir), self.quarantine.used_bytes())

    async def _check(
        self,
        model_id: str,
        level: VerifyLevel,
        on_hashed: Callable[[int], None] | None = None,
        *,
        save: bool = True,
        compare_blocks: bool = False,
    ) -> tuple[IntegrityResult, Target | None]:
        spec = self.manager.spec(model_id)  # UnknownModelError names the catalog's models
        target = await asyncio.to_thread(self.manager.known_target, model_id)
        if target is None:
            issue = IntegrityIssue(
                spec.repo,
                IssueKind.MISSING,
                "never downloaded",
            )
            result = IntegrityResult(
                model_id, level, False, 0.0, IssueList([issue]), time.time(), 0
            )
        else:
            layout = self.manager.repo_layout(target.repo_id)
            result = await asyncio.to_thread(
                functools.partial(
                    check_integrity,
                    model_id,
                    layout,
                    target,
                    level,
                    on_hashed,
                    self.policy.scrub_budget_bytes,
                    compare_blocks=compare_blocks,
                )
            )
        if save:
            self.last_results[model_id] = result
        if save and level is not VerifyLevel.QUICK and target is not None:
            await asyncio.to_thread(self.history.save, result)
            self._emit(
                EventType.HEALTH_CHECKED,
                model_id,
                level=level.value,
                is_healthy=result.is_healthy,
                integrity_score=result.integrity_score,
                issues=[str(i) for i in result.issues],
                kinds=[i.kind.value for i in result.issues],
            )
        return result, target

    def _damaged(
        self, check: IntegrityResult, target: Target | None
    ) -> list[tuple[RepoLayout, Target, IntegrityIssue, RemoteFile]]:
        """The files whose bytes are damaged (not merely missing), with their layout."""
        if target is None:
            return []
        layout = self.manager.repo_layout(target.repo_id)
        by_path: dict[str, RemoteFile] = {f.path: f for f in target.files}
        return [
            (layout, target, issue, by_path[issue.path])
            for issue in check.issues
            if issue.category == "corruption" and issue.path in by_path
        ]

    def _on_download_event(self, event: Event) -> None:
        """A pull that fetched files and completed verified them by their sha256 on the
        way in (the files it did not fetch were verified before and are unchanged): that is
        a full check, recorded as one. Paused or failed, then resumed, it is one pull: a
        resumed job may find every file in place (verified as the pause landed)."""
        self.follower.on_event(event)
        model_id = event.model_id
        if model_id is None:
            return
        if event.type == EventType.MODEL_REMOVED:
            self._fetched.discard(model_id)
        elif event.type == EventType.DOWNLOAD_STARTED and _missing_bytes(event):
            self._fetched.add(model_id)  # it completes only once they are fetched, hashed
        elif event.type == EventType.FILE_VERIFIED and event.data.get("fetched"):
            self._fetched.add(model_id)
        elif event.type == EventType.DOWNLOAD_STATE and event.data.get("status") in _PULL_OVER:
            fetched = model_id in self._fetched
            self._fetched.discard(model_id)
            if fetched and event.data["status"] == DownloadStatus.COMPLETED.value:
                self._record_pull(model_id)

    def _record_pull(self, model_id: str) -> None:
        target = self.downloader.job_target(model_id)
        if target is None:
            return
        result = IntegrityResult(
            model_id,
            VerifyLevel.FULL,
            True,
            1.0,
            IssueList(),
            time.time(),
            len(target.files),
            0,
        )
        # Seen at once by the status (a person looks right after the pull), kept in the
        # database off the event loop.
        self.last_results[model_id] = result
        self._spawn(asyncio.to_thread(self.history.save, result), f"record pull {model_id}")

    def _emit(self, type_: str, model_id: str, **data: object) -> None:
        self.bus.publish(Event(type_, model_id, dict(data)))


def _missing_bytes(started: Event) -> bool:
    """True when a DOWNLOAD_STARTED names a file not wholly in place."""
    files = started.data.get("files") or ()
    return any((f.get("done_bytes") or 0) < (f.get("size_bytes") or 0) for f in files)


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s failed", task.get_name(), exc_info=task.exception())
