"""The seed's ModelHealthMonitor: integrity checks of catalog models, by model id."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from modelward.health.checker import IntegrityResult, VerifyLevel, check_integrity
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.quarantine import Quarantine
from modelward.health.repair import RepairPlan, prepare_repair, repairable_ranges
from modelward.sources import RemoteFile, Target
from modelward.store.layout import RepoLayout
from modelward.store.manager import ModelManager
from modelward.transfer import EnhancedModelDownloader


@dataclass(frozen=True, slots=True)
class RepairResult:
    """The seed's RepairResult: what ``verify_and_repair_model`` found and did."""

    model_id: str
    success: bool
    issues_found: tuple[IntegrityIssue, ...]
    plans: tuple[RepairPlan, ...]
    """Per damaged file: the byte ranges fetched again and its quarantine entry."""
    bytes_fetched: int
    error_message: str | None = None
    error_hint: str | None = None


@dataclass(frozen=True, slots=True)
class CorruptedFile:
    """One damaged file and what repairing it would fetch."""

    path: str
    kind: IssueKind
    detail: str
    damaged_ranges: tuple[tuple[int, int], ...]
    """The byte ranges a repair fetches again (the whole file without a block table)."""

    @property
    def repair_bytes(self) -> int:
        """Bytes a repair asks the source for."""
        return sum(end - start for start, end in self.damaged_ranges)


@dataclass(frozen=True, slots=True)
class CorruptionReport:
    """The seed's CorruptionReport: which files are damaged and what repair would cost."""

    model_id: str
    corruption_detected: bool
    files: tuple[CorruptedFile, ...]
    checked_at: float

    @property
    def repair_bytes(self) -> int:
        """Bytes a repair of every damaged file asks the source for."""
        return sum(f.repair_bytes for f in self.files)


class ModelHealthMonitor:
    """Checks what the store holds for each model, offline (from the recorded manifest),
    and repairs it through the downloader."""

    def __init__(
        self, manager: ModelManager, downloader: EnhancedModelDownloader, quarantine: Quarantine
    ) -> None:
        self.manager = manager
        self.downloader = downloader
        self.quarantine = quarantine
        self.last_results: dict[str, IntegrityResult] = {}
        """The latest result per model, shown with its age (``checked_at``)."""

    async def check_model_integrity(
        self, model_id: str, level: VerifyLevel = VerifyLevel.STRUCTURAL
    ) -> IntegrityResult:
        """Check ``model_id``'s files at ``level`` (hashing runs off the event loop)."""
        result, _target = await self._check(model_id, level)
        return result

    async def detect_corruption(self, model_id: str) -> CorruptionReport:
        """Fully check ``model_id`` and, for each damaged file, find the blocks a repair
        would fetch (missing files are not corruption; ``modelward pull`` fetches them)."""
        check, target = await self._check(model_id, VerifyLevel.FULL)
        files: list[CorruptedFile] = []
        for layout, _target, issue, file in self._damaged(check, target):
            ranges = await asyncio.to_thread(repairable_ranges, layout, file)
            files.append(CorruptedFile(issue.path, issue.kind, issue.detail, ranges))
        return CorruptionReport(model_id, bool(files), tuple(files), check.checked_at)

    async def verify_and_repair_model(self, model_id: str) -> RepairResult:
        """Fully check ``model_id``; quarantine each damaged file and fetch only its damaged
        blocks (the whole file without a block table); missing files are fetched too."""
        check, target = await self._check(model_id, VerifyLevel.FULL)
        if check.is_healthy:
            return RepairResult(model_id, True, (), (), 0)
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
        after = await self.check_model_integrity(model_id, VerifyLevel.QUICK)
        return RepairResult(
            model_id,
            download.success and after.is_healthy,
            check.issues,
            tuple(plans),
            download.bytes_fetched,
            download.error_message,
            download.error_hint,
        )

    async def _check(
        self, model_id: str, level: VerifyLevel
    ) -> tuple[IntegrityResult, Target | None]:
        spec = self.manager.spec(model_id)  # UnknownModelError names the catalog's models
        target = await asyncio.to_thread(self.manager.known_target, model_id)
        if target is None:
            issue = IntegrityIssue(
                spec.repo,
                IssueKind.MISSING,
                "never downloaded: run `modelward pull " + model_id + "`",
            )
            result = IntegrityResult(
                model_id, level, False, 0.0, IssueList([issue]), time.time(), 0
            )
        else:
            layout = self.manager.repo_layout(target.repo_id)
            result = await asyncio.to_thread(check_integrity, model_id, layout, target, level)
        self.last_results[model_id] = result
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
