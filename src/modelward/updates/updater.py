"""Model updates: notice upstream moved, fetch the new version beside the old one, switch the
ref atomically, keep the old version until the new one has proven itself, and go back.

Why this is safe: the downloader only writes the ref once every file of the new commit is
verified, and writing the ref is one atomic rename, so the store serves the old commit or
the new one, never a mix, whatever moment a crash picks. Files that did not change are
the same blobs and are linked, not fetched. The previous snapshot stays on disk (its
links keep its blobs) until ``keep_previous_successes`` jobs succeeded on the new one;
then only the blobs no other snapshot uses are removed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from modelward.actions import Action
from modelward.catalog import ModelSpec
from modelward.errors import (
    ModelwardError,
    NoPreviousVersionError,
    SourceUnavailableError,
    StoreLockedError,
)
from modelward.events import Event, EventBus, EventType
from modelward.ops.audit import AuditLog, Outcome
from modelward.ops.selfstarted import (
    APPLY_UPDATE,
    AUTOMATION,
    PRUNE,
    ROLLBACK,
    record_self_started,
)
from modelward.sources import Target
from modelward.store import ModelManager
from modelward.store.removal import remove_target
from modelward.store.writer import write_ref
from modelward.transfer import DownloadResult, EnhancedModelDownloader
from modelward.updates.record import (
    UpdatePolicy,
    UpdateRecord,
    UpdateState,
    load_record,
    save_record,
)
from modelward.updates.verify import verify_before_prune

logger = logging.getLogger(__name__)

RESOLVE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class UpdatePolicySettings:
    """How updates behave when a model's record does not say otherwise."""

    policy: UpdatePolicy = UpdatePolicy.NOTIFY
    keep_previous_successes: int = 3
    rollback_after_failures: int = 2


@dataclass(frozen=True, slots=True)
class UpdateCheck:
    """What a check found: the commit served, the newest upstream, and whether they differ."""

    model_id: str
    current_version: str | None
    latest_version: str | None
    update_available: bool
    skipped: bool
    """The newest commit is one this model was rolled back from."""
    checked_at: float
    message: str
    action: Action | None = None
    """What to do next (download it first, or update), if anything."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What an apply or a rollback did."""

    model_id: str
    success: bool
    state: UpdateState
    current_version: str | None
    previous_version: str | None
    message: str
    bytes_fetched: int = 0
    action: Action | None = None
    """What to do next (update again to resume, prune the previous version), if anything."""


class ModelUpdater:
    """Checks, applies and rolls back model versions (see the module docstring)."""

    def __init__(
        self,
        downloader: EnhancedModelDownloader,
        *,
        bus: EventBus | None = None,
        defaults: UpdatePolicySettings | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.downloader = downloader
        self.audit = audit
        """Where applies, rollbacks and prunes the updater starts by itself are recorded."""
        self.automatic_checks = True
        """False (the update-checks feature is off): no scheduled checks; a person's
        check still asks upstream."""
        self.manager: ModelManager = downloader.manager
        self.home = downloader.manager.home
        self.bus = bus
        self.defaults = defaults or UpdatePolicySettings()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._prunes: dict[str, asyncio.Task[object]] = {}
        """The automatic prune running per model (one at a time)."""
        self._scheduler: asyncio.Task[None] | None = None
        self._checks_wanted = False  # schedule_checks was called (the service runs them)

    def record(self, model_id: str) -> UpdateRecord:
        """The model's version record (blocking: a small file read)."""
        self.manager.spec(model_id)
        return load_record(self.home, model_id)

    def policy(self, model_id: str) -> UpdatePolicy:
        """The model's update policy (its own, else the default)."""
        return self.record(model_id).policy or self.defaults.policy

    async def set_policy(self, model_id: str, policy: UpdatePolicy | None) -> UpdateRecord:
        """Give ``model_id`` its own policy (None: back to the default)."""
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            rec.policy = policy
            await asyncio.to_thread(save_record, self.home, rec)
            return rec

    async def check_for_update(self, model_id: str) -> UpdateCheck:
        """Ask upstream for the newest commit of the model's revision and compare."""
        spec = self.manager.spec(model_id)
        current = await asyncio.to_thread(self.manager.local_commit, model_id)
        if len(spec.revision) == 40 and spec.revision == current:
            return self._checked(model_id, current, current, "pinned to a commit: no updates")
        target = await self._resolve_in_time(model_id, spec)
        await asyncio.to_thread(self.manager.remember, target)
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            known_before = rec.latest
            rec.latest, rec.checked_at = target.commit, time.time()
            if rec.current is None:
                rec.current = current
            await asyncio.to_thread(save_record, self.home, rec)
        check = self._checked(model_id, current, target.commit, None, rec.skipped)
        if check.update_available and known_before != target.commit:
            self._emit(
                EventType.UPDATE_AVAILABLE,
                model_id,
                current=current,
                latest=target.commit,
                skipped=check.skipped,
                policy=(rec.policy or self.defaults.policy).value,
            )
        return check

    async def check_all(self) -> dict[str, UpdateCheck]:
        """Check every model that is on disk; act per policy (propose, or apply)."""
        found: dict[str, UpdateCheck] = {}
        for spec in self.manager.catalog:
            if await asyncio.to_thread(self.manager.local_commit, spec.id) is None:
                continue
            try:
                check = await self.check_for_update(spec.id)
            except (ModelwardError, TimeoutError) as exc:
                logger.info("cannot check %s for updates: %s", spec.id, exc)
                continue
            found[spec.id] = check
            if not check.update_available or check.skipped:
                continue
            policy = await asyncio.to_thread(self.policy, spec.id)
            if policy is UpdatePolicy.AUTO:
                self._spawn(self._auto_apply(spec.id), f"update {spec.id}")
            elif policy is UpdatePolicy.ASK:
                self._emit(
                    EventType.UPDATE_PROPOSED,
                    spec.id,
                    latest=check.latest_version,
                    action=Action.UPDATE.value,
                )
        return found

    async def apply_update(self, model_id: str, max_retries: int | None = None) -> UpdateResult:
        """Fetch the newest commit beside the served one (changed files only), verified,
        then switch; on failure the old version keeps being served."""
        if self.downloader.is_running(model_id):
            raise StoreLockedError(
                f"{model_id} is downloading; an update now would race with it",
                hint="Wait for the download to finish, then apply the update.",
            )
        check = await self.check_for_update(model_id)
        if not check.update_available:
            rec = await asyncio.to_thread(self.record, model_id)
            return UpdateResult(
                model_id,
                True,
                rec.state,
                check.current_version,
                rec.previous,
                "already at the newest version",
            )
        previous = check.current_version
        # Two versions back is one too many to keep: the backup is the served version.
        await self.prune_previous(model_id, settle=False)
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            rec.state, rec.applying, rec.reason = UpdateState.APPLYING, check.latest_version, None
            rec.current = previous
            await asyncio.to_thread(save_record, self.home, rec)
        self._emit(EventType.UPDATE_STARTED, model_id, current=previous, latest=rec.applying)
        retries = self.downloader.max_retries if max_retries is None else max_retries
        await self.downloader.start_download(model_id, retries, follow_upstream=True)
        result = await self.downloader.wait_for_completion(model_id)
        return await self._finish_apply(model_id, previous, result)

    async def _resolve_in_time(self, model_id: str, spec: ModelSpec) -> Target:
        try:
            return await asyncio.wait_for(
                self.downloader.source(model_id).resolve(spec), RESOLVE_TIMEOUT_S
            )
        except TimeoutError:
            raise SourceUnavailableError(
                f"the source did not answer within {RESOLVE_TIMEOUT_S:.0f} s "
                f"when asked about {model_id}'s newest version"
            ) from None

    async def restore(self) -> None:
        """After a restart: records agree with the ref again (a crash may have come between
        the two), and an apply a crash interrupted is followed to its end when its download
        continues, else recorded as interrupted (the old version is served)."""
        for spec in self.manager.catalog:
            rec = await asyncio.to_thread(self.record, spec.id)
            served = await asyncio.to_thread(self.manager.local_commit, spec.id)
            if rec.state is UpdateState.APPLYING and self.downloader.is_running(spec.id):
                self._spawn(self._follow(spec.id, rec.current), f"update {spec.id}")
                continue
            async with self._lock(spec.id):
                if rec.state is UpdateState.APPLYING:
                    if served is not None and served != rec.current:
                        rec.state, rec.previous = UpdateState.APPLIED, rec.current
                        rec.applied_at, rec.successes, rec.failures = time.time(), 0, 0
                    else:
                        rec.state = UpdateState.CURRENT
                        rec.reason = f"an update to {_short(rec.applying)} was interrupted; "
                        rec.reason += "applying the update again continues it"
                    rec.applying = None
                elif served is not None and rec.current not in (None, served):
                    # The record was saved, the ref not (or the other way round): the ref
                    # is what is served, so the record follows it.
                    if rec.previous == served:
                        rec.previous = rec.current
                    rec.reason = f"record set back to the served {_short(served)}"
                else:
                    continue
                rec.current = served
                await asyncio.to_thread(save_record, self.home, rec)

    async def _follow(self, model_id: str, previous: str | None) -> None:
        result = await self.downloader.wait_for_completion(model_id)
        await self._finish_apply(model_id, previous, result)

    async def _finish_apply(
        self, model_id: str, previous: str | None, result: DownloadResult
    ) -> UpdateResult:
        served = await asyncio.to_thread(self.manager.local_commit, model_id)
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            wanted, rec.applying = rec.applying, None
            if result.success and served is not None and served != previous:
                # What was fetched is what counts (upstream may have moved on meanwhile).
                rec.state, rec.current, rec.previous = UpdateState.APPLIED, served, previous
                rec.applied_at, rec.successes, rec.failures = time.time(), 0, 0
                message = f"now serving {_short(served)}; {_short(previous)} is kept until "
                message += f"{self.defaults.keep_previous_successes} jobs succeed on it"
            elif result.error_code == "integrity-mismatch":
                # The new version failed verification; the ref was never switched.
                why = result.error_message or "verification failed"
                rec.state, rec.reason, rec.skipped = UpdateState.ROLLED_BACK, why, wanted
                rec.current = served
                message = f"update to {_short(wanted)} failed verification ({why}); "
                message += f"still serving {_short(served)}"
            else:
                # Stopped (network, paused, cancelled, no room): worth another try later.
                why = result.error_message or f"the download ended {result.final_status.value}"
                rec.state, rec.reason, rec.current = UpdateState.CURRENT, why, served
                message = f"update to {_short(wanted)} did not finish ({why}); still serving "
                message += f"{_short(served)}; applying the update again resumes it"
            await asyncio.to_thread(save_record, self.home, rec)
        applied = rec.state is UpdateState.APPLIED
        kind = EventType.UPDATE_APPLIED if applied else EventType.UPDATE_ROLLED_BACK
        self._emit(kind, model_id, current=served, previous=previous, reason=rec.reason)
        resume = Action.UPDATE if rec.state is UpdateState.CURRENT else None
        return UpdateResult(
            model_id, applied, rec.state, served, previous, message, result.bytes_fetched, resume
        )

    async def rollback(self, model_id: str, reason: str = "asked for") -> UpdateResult:
        """Serve the previous version again (switching the ref atomically); refuses when
        it is no longer complete on disk."""
        spec = self.manager.spec(model_id)
        if self.downloader.is_running(model_id):
            raise StoreLockedError(
                f"{model_id} is downloading; a rollback now would race with it",
                hint="Wait for it, or cancel the download first.",
            )
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            served = await asyncio.to_thread(self.manager.local_commit, model_id)
            back_to = rec.previous
            if back_to is None or back_to == served:
                raise NoPreviousVersionError(f"{model_id} has no previous version to go back to")
            old = await self._complete_target(model_id, back_to)
            if old is None:
                raise NoPreviousVersionError(
                    f"the previous version {_short(back_to)} of {model_id} is no longer "
                    "complete on disk",
                    hint=f"Pin the catalog entry's revision to {back_to} and pull the model "
                    "to fetch it again.",
                )
            rec.state, rec.current, rec.previous = UpdateState.ROLLED_BACK, back_to, served
            rec.skipped, rec.reason = served, reason
            rec.successes = rec.failures = 0
            # Record first, then the ref: after a crash between the two, restore() sets
            # the record back to what the ref serves.
            await asyncio.to_thread(save_record, self.home, rec)
            layout = self.manager.repo_layout(old.repo_id)
            await asyncio.to_thread(write_ref, layout, spec.revision, back_to)
        self._emit(
            EventType.UPDATE_ROLLED_BACK, model_id, current=back_to, previous=served, reason=reason
        )
        return UpdateResult(
            model_id,
            True,
            UpdateState.ROLLED_BACK,
            back_to,
            served,
            f"serving {_short(back_to)} again ({reason}); {_short(served)} stays on disk until "
            "it is pruned",
            action=Action.PRUNE,
        )

    async def note_job(self, model_id: str, success: bool, commit: str | None) -> None:
        """Count a job that ran on ``commit`` of a freshly applied version: enough
        successes remove the previous version (in the background, see ``pending_prune``:
        it hashes the served version first); failing first jobs roll back to it. Never
        raises: a job's outcome must not change because of the bookkeeping."""
        try:
            await self._note_job(model_id, success, commit)
        except ModelwardError as exc:
            logger.warning("after a job on %s: %s (%s)", model_id, exc.message, exc.hint)

    async def _note_job(self, model_id: str, success: bool, commit: str | None) -> None:
        rec = await asyncio.to_thread(self.record, model_id)
        if rec.state is not UpdateState.APPLIED or commit is None or commit != rec.current:
            return  # not a job on the new version (it loaded the old one, or none)
        prune = rollback = False
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            if success:
                rec.successes += 1
                prune = rec.successes >= self.defaults.keep_previous_successes
            elif rec.successes == 0:
                rec.failures += 1
                rollback = rec.failures >= self.defaults.rollback_after_failures
            await asyncio.to_thread(save_record, self.home, rec)
        if rollback:
            why = f"its first {rec.failures} jobs on {_short(rec.current)} failed"
            await self._automatically(ROLLBACK, model_id, self.rollback(model_id, reason=why))
        elif prune and rec.previous is not None:
            self._prune_in_background(model_id)

    def pending_prune(self, model_id: str) -> asyncio.Task[object] | None:
        """The automatic prune of ``model_id``'s previous version still running, if any."""
        task = self._prunes.get(model_id)
        return task if task is not None and not task.done() else None

    def _prune_in_background(self, model_id: str) -> None:
        """Prune off the job's path: it hashes the served version whole (minutes for a
        big model). One per model: a success counted meanwhile finds it running."""
        if self.pending_prune(model_id) is not None:
            return
        task = self._spawn(self._auto_prune(model_id), f"prune {model_id}")
        self._prunes[model_id] = task
        task.add_done_callback(lambda done: self._forget_prune(model_id, done))

    def _forget_prune(self, model_id: str, done: asyncio.Task[object]) -> None:
        if self._prunes.get(model_id) is done:
            del self._prunes[model_id]

    async def _auto_prune(self, model_id: str) -> None:
        """The automatic prune, recorded; its failure is logged (the next success tries
        again), never raised into a task nobody awaits."""
        try:
            await self._automatically(PRUNE, model_id, self.prune_previous(model_id))
        except ModelwardError as exc:
            logger.warning("pruning %s: %s (%s)", model_id, exc.message, exc.hint)
        except Exception:
            logger.exception("pruning %s failed", model_id)

    async def _auto_apply(self, model_id: str) -> None:
        """Apply an update the ``auto`` policy chose, and record it."""
        await self._automatically(APPLY_UPDATE, model_id, self.apply_update(model_id))

    async def _automatically(
        self, action: str, model_id: str, work: Coroutine[Any, Any, object]
    ) -> None:
        """Run ``work`` the updater started by itself and record how it ended."""
        try:
            result = await work
        except ModelwardError as error:
            await record_self_started(self.audit, AUTOMATION, action, model_id, error=error)
            raise
        ok = getattr(result, "success", True) is not False
        outcome: Outcome = "ok" if ok else "failed"
        await record_self_started(self.audit, AUTOMATION, action, model_id, outcome=outcome)

    async def prune_previous(self, model_id: str, *, settle: bool = True) -> int:
        """Remove the previous version's files nothing else uses, once every file of the
        served version matched its checksum; else raise ``PruneRefusedError`` and delete
        nothing (the backup is the only good copy there may be)."""
        async with self._lock(model_id):
            rec = await asyncio.to_thread(self.record, model_id)
            served = await asyncio.to_thread(self.manager.local_commit, model_id)
            if rec.previous is None or served is None or rec.previous == served:
                return 0
            layout = self.manager.layout(model_id)
            new = await asyncio.to_thread(self.manager.target_at, model_id, served)
            await verify_before_prune(model_id, layout, new, rec.previous)
            old = await asyncio.to_thread(self.manager.target_at, model_id, rec.previous)
            freed = 0
            if old is not None:
                keep = await asyncio.to_thread(self.manager.paths_used_by_others, model_id, old)
                freed = await asyncio.to_thread(remove_target, layout, old, keep)
            rec.previous = None
            if settle:
                rec.state = UpdateState.SETTLED
            await asyncio.to_thread(save_record, self.home, rec)
        self._emit(EventType.UPDATE_SETTLED, model_id, current=served, freed_bytes=freed)
        return freed

    def schedule_checks(self, interval_s: float) -> None:
        """Check every ``interval_s`` in the background (the first check right away);
        none while ``automatic_checks`` is off."""
        self._checks_wanted = True
        if interval_s <= 0 or not self.automatic_checks or self._scheduler is not None:
            return

        async def loop() -> None:
            while True:
                await self.check_all()
                await asyncio.sleep(interval_s)

        self._scheduler = asyncio.get_running_loop().create_task(loop(), name="update checks")

    @property
    def checking_on_schedule(self) -> bool:
        """True while scheduled update checks run."""
        return self._scheduler is not None and not self._scheduler.done()

    async def reschedule(self, interval_s: float) -> None:
        """Check every ``interval_s`` from now on (0 or ``automatic_checks`` off: stop
        checking) once the service scheduled checks."""
        if not self._checks_wanted:
            return
        if self._scheduler is not None:
            self._scheduler.cancel()
            await asyncio.gather(self._scheduler, return_exceptions=True)
            self._scheduler = None
        self.schedule_checks(interval_s)

    async def aclose(self) -> None:
        """Stop scheduled checks and background applies and prunes."""
        tasks = [t for t in (self._scheduler, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._scheduler = None

    async def _complete_target(self, model_id: str, commit: str) -> Target | None:
        target = await asyncio.to_thread(self.manager.target_at, model_id, commit)
        if target is None:
            return None
        local = await self.manager.inspect(target)
        return target if local.complete else None

    def _checked(
        self,
        model_id: str,
        current: str | None,
        latest: str | None,
        note: str | None,
        skipped_commit: str | None = None,
    ) -> UpdateCheck:
        available = current is not None and latest is not None and latest != current
        skipped = available and latest == skipped_commit
        action = (
            Action.DOWNLOAD
            if current is None
            else Action.UPDATE
            if available and not skipped
            else None
        )
        if note is None:
            if current is None:
                note = f"{model_id} is not on disk yet: download it first"
            elif not available:
                note = f"{model_id} is at the newest version ({_short(current)})"
            elif skipped:
                note = f"{_short(latest)} is newer but was rolled back from"
            else:
                note = f"{_short(latest)} is newer than {_short(current)}"
        return UpdateCheck(model_id, current, latest, available, skipped, time.time(), note, action)

    def _lock(self, model_id: str) -> asyncio.Lock:
        return self._locks.setdefault(model_id, asyncio.Lock())

    def _spawn(self, work: Coroutine[Any, Any, object], name: str) -> asyncio.Task[object]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _emit(self, type_: str, model_id: str, **data: object) -> None:
        if self.bus is not None:
            self.bus.publish(Event(type_, model_id, data))


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "nothing"
