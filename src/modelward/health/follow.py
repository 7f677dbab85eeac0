"""A repair asked for while the download queue finishes an interrupted one joins it.

A repair interrupted by a restart leaves its damaged copies in quarantine and the bytes it
kept or fetched in ``.incomplete`` files beside the served blobs; the restored download
queue resumes that download, which is the rest of the repair. A person asking for a repair
right then asks for exactly that work, so the request follows that download and reports
how it ended instead of being refused as racing with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass

from modelward.events import Event, EventType
from modelward.health.aside import resumable_partial
from modelward.health.checker import IntegrityResult, VerifyLevel
from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.health.quarantine import Quarantine, QuarantineEntry
from modelward.health.repair import RepairPlan, missing_ranges
from modelward.health.results import RepairResult
from modelward.sources import RemoteFile
from modelward.store.layout import RepoLayout
from modelward.store.manager import ModelManager
from modelward.transfer import DownloadStatus, EnhancedModelDownloader

Check = Callable[[str, VerifyLevel], Awaitable[IntegrityResult]]
Spawn = Callable[[Coroutine[object, object, object], str], object]
_OVER = frozenset(
    s.value
    for s in (
        DownloadStatus.COMPLETED,
        DownloadStatus.CANCELLED,
        DownloadStatus.FAILED,
        DownloadStatus.PAUSED,
    )
)
"""Where a download job stops running."""


@dataclass(frozen=True, slots=True)
class PendingRepair:
    """What an interrupted repair of one model set aside and has yet to fetch."""

    issues: tuple[IntegrityIssue, ...]
    plans: tuple[RepairPlan, ...]


def pending_repair(
    manager: ModelManager, quarantine: Quarantine, model_id: str
) -> PendingRepair | None:
    """The repair the model's running download is finishing: the files of its known
    version whose damaged copy is in quarantine and not yet replaced by a verified one;
    None when there is none (an ordinary download). Blocking: reads a few small records."""
    target = manager.known_target(model_id)
    if target is None:
        return None
    layout = manager.repo_layout(target.repo_id)
    files = {f.blob_name: f for f in target.files}
    newest: dict[str, QuarantineEntry] = {}
    for entry in quarantine.entries():  # oldest first: the newest entry per blob stays
        if entry.repo_id == target.repo_id and entry.blob_name in files:
            newest[entry.blob_name] = entry
    pending = [e for e in newest.values() if not quarantine.replacement_verified(e)]
    if not pending:
        return None
    issues = tuple(_issue(e) for e in pending)
    plans = tuple(_plan(layout, files[e.blob_name], e) for e in pending)
    return PendingRepair(issues, plans)


def _issue(entry: QuarantineEntry) -> IntegrityIssue:
    """The issue the interrupted repair found, from the reason it quarantined the file for
    (``"{kind}: {detail}"``)."""
    kind, _sep, detail = entry.reason.partition(": ")
    try:
        return IntegrityIssue(entry.path, IssueKind(kind), detail)
    except ValueError:
        return IntegrityIssue(entry.path, IssueKind.CHECKSUM_MISMATCH, entry.reason)


def _plan(layout: RepoLayout, file: RemoteFile, entry: QuarantineEntry) -> RepairPlan:
    """What the download still fetches for ``file``: the gaps of its partial file (the
    whole file when there is none to resume)."""
    kept = resumable_partial(layout, file)
    ranges = missing_ranges(kept, file) if kept is not None else ((0, file.size_bytes),)
    return RepairPlan(file.path, ranges, entry.entry_id)


async def follow_repair(
    downloader: EnhancedModelDownloader, model_id: str, pending: PendingRepair, check: Check
) -> RepairResult:
    """Wait for the running download that finishes ``pending`` and report the repair as
    one started here would: it verified what it fetched; a structural check confirms the
    model is whole."""
    download = await downloader.wait_for_completion(model_id)
    after = await check(model_id, VerifyLevel.STRUCTURAL)
    return RepairResult(
        model_id,
        download.success and after.is_healthy,
        pending.issues,
        pending.plans,
        download.bytes_fetched,
        download.error_message,
        download.error_hint,
    )


class RepairFollower:
    """Which running downloads finish an interrupted repair, looked up as each download is
    queued: by the time a repair is asked for, that download may have verified the
    repaired files already (no quarantine entry left pending) and still be running."""

    def __init__(self, manager: ModelManager, quarantine: Quarantine, spawn: Spawn) -> None:
        self.manager, self.quarantine = manager, quarantine
        self._spawn = spawn
        self._finishing: dict[str, PendingRepair] = {}

    def on_event(self, event: Event) -> None:
        """Look up a newly queued download's pending repair; forget it once it stops."""
        model_id = event.model_id
        if model_id is None:
            return
        if event.type == EventType.DOWNLOAD_QUEUED:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: no download runs to be followed
            self._spawn(self._look(model_id), f"pending repair {model_id}")
        elif event.type == EventType.DOWNLOAD_STATE and event.data.get("status") in _OVER:
            self._finishing.pop(model_id, None)

    def pending(self, model_id: str) -> PendingRepair | None:
        """The repair the model's running download finishes, if any (blocking when it was
        not looked up yet)."""
        known = self._finishing.get(model_id)
        return known or pending_repair(self.manager, self.quarantine, model_id)

    async def _look(self, model_id: str) -> None:
        found = await asyncio.to_thread(pending_repair, self.manager, self.quarantine, model_id)
        if found is None:
            self._finishing.pop(model_id, None)
        else:
            self._finishing[model_id] = found
