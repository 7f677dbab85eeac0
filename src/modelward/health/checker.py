"""Checking a model's files at a chosen level: quick (stat), structural (headers), scrub
(a budgeted sample of blocks), full (checksums).

Each level includes the cheaper ones. quick compares each blob's stat (size, inode,
mtime) with the moment it was verified (or found damaged), cheap enough for every model
request; structural adds the checks of :mod:`modelward.health.structural`, which read
kilobytes; scrub adds the next blocks of :mod:`modelward.health.scrub`'s rotation; full
hashes every file against the checksum its source publishes, on both cores when there are
several files, records the blobs that match as verified again (with a block table when
they had none) and the ones that do not as damaged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.scrub import scrub_model
from modelward.health.structural import INDEX_SUFFIXES, check_structure
from modelward.sources import RemoteFile, Target
from modelward.store.blobcheck import check_blob
from modelward.store.layout import RepoLayout
from modelward.store.records import (
    BlobStat,
    DamagedRecord,
    VerifiedRecord,
    load_index_shards,
    load_manifest,
    save_index_shards,
)
from modelward.store.writer import snapshot_link_ok

HASH_THREADS = 2
_Hashed = tuple[
    RemoteFile, IntegrityIssue | None, BlobStat | None, tuple[tuple[int, int], ...] | None
]
DEFAULT_SCRUB_BUDGET_BYTES = 16 * 1024**3


class VerifyLevel(StrEnum):
    """How deep a check looks; each level includes the cheaper ones."""

    QUICK = "quick"
    STRUCTURAL = "structural"
    SCRUB = "scrub"
    """structural, plus the next blocks of a rotation over every verified blob, within a
    byte budget (see :mod:`modelward.health.scrub`)."""
    FULL = "full"


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    """The seed's IntegrityResult: what a check of one model found."""

    model_id: str
    level: VerifyLevel
    is_healthy: bool
    integrity_score: float | None
    """Share of the checked bytes found intact (:func:`integrity_share`); None when no
    file was on disk to check. Missing files do not lower it: that is completeness."""
    issues: IssueList
    """Each problem; ``"corruption" in result.issues`` asks whether any file is damaged."""
    checked_at: float
    """When the check ended (seconds since the epoch)."""
    files_checked: int
    """Files on disk that the check examined (missing ones are not counted)."""
    bytes_hashed: int = 0


def check_integrity(
    model_id: str,
    layout: RepoLayout,
    target: Target,
    level: VerifyLevel,
    on_hashed: Callable[[int], None] | None = None,
    scrub_budget_bytes: int = DEFAULT_SCRUB_BUDGET_BYTES,
    *,
    compare_blocks: bool = False,
) -> IntegrityResult:
    """Check ``target``'s files in ``layout`` at ``level`` (blocking; run in a thread).

    ``on_hashed`` hears of each chunk the full level hashes (for progress; called from the
    hashing threads);
    ``scrub_budget_bytes`` bounds what the scrub level reads; ``compare_blocks`` makes the
    full level record which blocks of a damaged blob differ (for a repair that follows).
    """
    record = VerifiedRecord(layout)
    damaged = DamagedRecord(layout)
    issues: dict[str, IntegrityIssue] = {}
    for file in target.files:
        issue = _quick_issue(layout, record, damaged, target, file)
        if issue is not None:
            issues[file.path] = issue
    if level is not VerifyLevel.QUICK:
        sizes: dict[str, int | None] = {f.path: f.size_bytes for f in target.files}
        indexes = _known_indexes(layout, target, issues)
        cached = set(indexes)
        for issue in check_structure(layout.snapshot_dir(target.commit), sizes, indexes):
            known = issues.get(issue.path)
            if known is None or known.kind is not IssueKind.MISSING:
                issues[issue.path] = issue  # more precise than a stat can be
                _remember_damage(layout, damaged, target, issue)
        _remember_indexes(layout, target, indexes, cached, issues)
    # A folder listing: cheap enough for the quick level too.
    issues.update((i.path, i) for i in _unexpected_files(layout, target))
    hashed = 0
    if level is VerifyLevel.SCRUB:
        scrub = scrub_model(layout, target, scrub_budget_bytes, frozenset(issues))
        issues.update((i.path, i) for i in scrub.issues)
        hashed = scrub.bytes_read
    if level is VerifyLevel.FULL:
        candidates = [f for f in target.files if _settles(issues.get(f.path))]
        for file, issue, stat, blocks in _hash_all(layout, candidates, on_hashed, compare_blocks):
            hashed += file.size_bytes
            if issue is None and stat is not None:
                record.mark(file.blob_name, stat)
                damaged.forget(file.blob_name)
                issues.pop(file.path, None)  # a modified stat with the right content
            elif issue is not None:
                record.forget(file.blob_name)
                if stat is not None and issue.kind is IssueKind.CHECKSUM_MISMATCH:
                    damaged.mark(file.blob_name, issue.detail, issue.kind.value, stat, blocks)
                issues[file.path] = issue
    return _result(model_id, level, target.files, IssueList(issues.values()), hashed)


def _remember_damage(
    layout: RepoLayout, damaged: DamagedRecord, target: Target, issue: IntegrityIssue
) -> None:
    """Record what the structural level found in a blob, so that quick checks (and the
    status) name it while the file stays as it is, rather than only "modified"."""
    if issue.kind not in (IssueKind.BAD_HEADER, IssueKind.ERROR_PAGE):
        return  # sizes are the quick level's to see; missing files have no blob
    file = next((f for f in target.files if f.path == issue.path), None)
    if file is None:
        return
    try:
        stat = BlobStat.of(layout.blob_path(file.blob_name))
    except OSError:
        return
    if stat.size_bytes == file.size_bytes:
        damaged.mark(file.blob_name, issue.detail, issue.kind.value, stat)


def _known_indexes(
    layout: RepoLayout, target: Target, issues: Mapping[str, IntegrityIssue]
) -> dict[str, object]:
    """Shard indexes whose blobs are verified and whose shard names are recorded: a big
    model's indexes are the largest reads of a structural check, and never change."""
    known: dict[str, object] = {}
    for file in target.files:
        if file.path.endswith(INDEX_SUFFIXES) and file.path not in issues:
            shards = load_index_shards(layout, file.blob_name)
            if shards is not None:
                known[file.path] = {"weight_map": {s: s for s in shards}}
    return known


def _remember_indexes(
    layout: RepoLayout,
    target: Target,
    indexes: Mapping[str, object],
    known: set[str],
    issues: Mapping[str, IntegrityIssue],
) -> None:
    by_path: dict[str, RemoteFile] = {f.path: f for f in target.files}
    for path, index in indexes.items():
        file = by_path.get(path)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        # Only an index whose blob is verified speaks for its blob name (its content hash).
        if file is None or path in known or path in issues or not isinstance(weight_map, dict):
            continue
        save_index_shards(layout, file.blob_name, sorted({str(v) for v in weight_map.values()}))


def _unexpected_files(layout: RepoLayout, target: Target) -> list[IntegrityIssue]:
    """Files in the snapshot folder that the repo does not have at this commit. Files of
    the repo that this model's include/exclude leave out are expected: another catalog
    entry on the same repo may use them."""
    recorded = load_manifest(layout, target.commit)
    known = {f.path for f in (recorded or target).files}
    root = layout.snapshot_dir(target.commit)
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name).relative_to(root).as_posix()
            if path not in known:
                found.append(
                    IntegrityIssue(
                        path,
                        IssueKind.UNEXPECTED_FILE,
                        f"not part of {target.repo_id} at {target.commit[:12]}; a loader that "
                        f"globs the folder may pick it up: remove {root / path}",
                    )
                )
    return found


def _settles(issue: IntegrityIssue | None) -> bool:
    """True when a deeper level may still clear or name the file's problem."""
    return issue is None or issue.kind is IssueKind.MODIFIED


def _quick_issue(
    layout: RepoLayout,
    record: VerifiedRecord,
    damaged: DamagedRecord,
    target: Target,
    file: RemoteFile,
) -> IntegrityIssue | None:
    blob = layout.blob_path(file.blob_name)
    try:
        stat = BlobStat.of(blob)
    except OSError:
        return IntegrityIssue(file.path, IssueKind.MISSING, "the blob is not in the store")
    if stat.size_bytes != file.size_bytes:
        kind = IssueKind.TRUNCATED if stat.size_bytes < file.size_bytes else IssueKind.SIZE_MISMATCH
        return IntegrityIssue(
            file.path, kind, f"{stat.size_bytes} bytes on disk, {file.size_bytes} expected"
        )
    if not snapshot_link_ok(layout, target.commit, file):
        return IntegrityIssue(file.path, IssueKind.MISSING, "the snapshot link is missing")
    if not record.is_verified(file.blob_name, stat):
        found = damaged.finding(file.blob_name, stat)
        if found is not None:  # found damaged by an earlier check and unchanged since
            try:
                kind = IssueKind(found[0])
            except ValueError:  # a kind this version does not know
                kind = IssueKind.CHECKSUM_MISMATCH
            return IntegrityIssue(file.path, kind, found[1])
        return IntegrityIssue(
            file.path,
            IssueKind.MODIFIED,
            "changed on disk since it was verified (or never verified): run a full check",
        )
    return None


def _hash_all(
    layout: RepoLayout,
    files: Iterable[RemoteFile],
    on_hashed: Callable[[int], None] | None,
    compare_blocks: bool,
) -> list[_Hashed]:
    """Hash each file; with each, its issue (None: it matches), its stat taken before it
    was read (None when it could not be read or changed meanwhile) and, when compared, its
    damaged blocks."""

    def one(file: RemoteFile) -> _Hashed:
        check = check_blob(layout, file, on_hashed, compare_blocks=compare_blocks)
        if check.error is not None:
            reason = check.error.strerror or check.error
            detail = f"cannot be read ({reason}): the disk may be failing"
            return file, IntegrityIssue(file.path, IssueKind.CHECKSUM_MISMATCH, detail), None, None
        if check.changed:
            detail = "changed while it was being checked: check again"
            return file, IntegrityIssue(file.path, IssueKind.MODIFIED, detail), None, None
        if check.matches:
            return file, None, check.stat, None
        algorithm = "sha256" if file.sha256 else "git blob id"
        detail = f"the {algorithm} differs from the published {file.blob_name[:12]}…"
        issue = IntegrityIssue(file.path, IssueKind.CHECKSUM_MISMATCH, detail)
        return file, issue, check.stat, check.damaged_blocks

    # hashlib releases the GIL: two files hash on two cores at once. Largest first, so a
    # big file is not left to hash alone at the end while the other thread idles.
    ordered = sorted(files, key=lambda f: f.size_bytes, reverse=True)
    with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="verify") as pool:
        return list(pool.map(one, ordered))


_BELOW_ONE = 0.9999
"""The highest share shown when a checked file is not intact (never a rounded 100%)."""


def integrity_share(checked: Iterable[tuple[int, bool]]) -> float | None:
    """The one integrity figure: intact bytes over checked bytes, from each checked file's
    ``(size_bytes, intact)``; None when no file was checked. Files not on disk count for
    neither side (how much is there is completeness, a separate figure), so a healthy
    half-downloaded model is 100% intact."""
    files = list(checked)
    if not files:
        return None
    whole = all(intact for _size, intact in files)
    total = sum(size for size, _intact in files)
    intact_bytes = sum(size for size, intact in files if intact)
    share = round(intact_bytes / total, 4) if total else float(whole)
    return share if whole else min(share, _BELOW_ONE)


def _result(
    model_id: str,
    level: VerifyLevel,
    files: tuple[RemoteFile, ...],
    issues: IssueList,
    hashed: int,
) -> IntegrityResult:
    by_path = {i.path: i for i in issues}
    problems = [i for i in issues if i.kind is not IssueKind.UNEXPECTED_FILE]
    # A file is checked when its bytes are on disk; intact unless an issue says they are
    # not (an index naming a missing shard is intact: the shard is what is missing).
    checked = [
        (f.size_bytes, f.path not in by_path or by_path[f.path].category != "corruption")
        for f in files
        if f.path not in by_path or by_path[f.path].kind is not IssueKind.MISSING
    ]
    return IntegrityResult(
        model_id=model_id,
        level=level,
        is_healthy=not problems,
        integrity_score=integrity_share(checked),
        issues=issues,
        checked_at=time.time(),
        files_checked=len(checked),
        bytes_hashed=hashed,
    )
