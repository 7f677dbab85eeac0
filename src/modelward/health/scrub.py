"""Scrub: check a rotating sample of blocks against their block tables, within a byte budget.

A full check of a 130 GB model reads 130 GB. A scrub reads at most its budget per run and
continues next run where the last one stopped, so over successive runs every block of every
verified blob is read and compared, and silent damage (bit rot, a bad sector, a stray write
that kept the stat) is found without ever paying for a full pass at once. The position is a
small record per repo; losing it only restarts the rotation.
"""

from __future__ import annotations

import bisect
import os
import time
from dataclasses import dataclass
from pathlib import Path

from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.sources import RemoteFile, Target
from modelward.store.hashing import block_digest
from modelward.store.layout import RepoLayout
from modelward.store.records import (
    BlobStat,
    DamagedRecord,
    VerifiedRecord,
    load_block_table,
    read_json,
    write_json_atomic,
)


@dataclass(frozen=True, slots=True)
class ScrubPass:
    """What one scrub run of a model read and found."""

    bytes_read: int
    blocks_checked: int
    issues: tuple[IntegrityIssue, ...]
    unscrubbable: tuple[str, ...]
    """Verified files without a block table (a full check records one)."""
    cycles: int
    """Complete rotations over the model's blocks so far."""


def scrub_model(
    layout: RepoLayout, target: Target, budget_bytes: int, skip: frozenset[str] = frozenset()
) -> ScrubPass:
    """Read up to ``budget_bytes`` of ``target``'s verified blobs, continuing the rotation,
    and compare each block with its table (blocking; run in a thread). Files in ``skip``
    (already known bad) are passed over."""
    record = VerifiedRecord(layout)
    files: list[RemoteFile] = []
    unscrubbable: list[str] = []
    for file in sorted(target.files, key=lambda f: f.blob_name):
        if file.path in skip or not record.is_verified(file.blob_name):
            continue
        if load_block_table(layout, file.blob_name) is None:
            unscrubbable.append(file.path)
        else:
            files.append(file)
    # One rotation per model: two catalog entries selecting different files of one commit
    # would otherwise keep moving each other's position.
    cursor_path = layout.records_dir / "scrub" / f"{target.model_id}@{target.commit}.json"
    cursor = _load_cursor(cursor_path)
    names = [f.blob_name for f in files]
    # A blob gone since (repaired, removed) hands over to the next name, not to the start.
    index = bisect.bisect_left(names, cursor.blob) if cursor.blob else 0
    block = cursor.block if index < len(names) and names[index] == cursor.blob else 0
    if index == len(names):
        index = 0
    cycles = cursor.cycles
    read = checked = 0
    issues: list[IntegrityIssue] = []
    visited = 0
    while files and read < budget_bytes and visited < len(files):
        file = files[index]
        result = _scrub_file(layout, file, block, budget_bytes - read, first_in_run=read == 0)
        read += result.bytes_read
        checked += result.blocks
        if result.issue is not None:
            issues.append(result.issue)
            record.forget(file.blob_name)
            if result.stat is not None:
                DamagedRecord(layout).mark(
                    file.blob_name, result.issue.detail, result.issue.kind.value, result.stat
                )
        if result.next_block is not None:  # the budget ran out inside this file
            block = result.next_block
            break
        index, block, visited = index + 1, 0, visited + 1
        if index == len(files):
            index, cycles = 0, cycles + 1
    if files:
        write_json_atomic(
            cursor_path,
            {"blob": names[index], "block": block, "cycles": cycles, "at": time.time()},
            durable=False,  # a lost position only repeats some reading
        )
    return ScrubPass(read, checked, tuple(issues), tuple(unscrubbable), cycles)


@dataclass(frozen=True, slots=True)
class _FileScrub:
    bytes_read: int
    blocks: int
    issue: IntegrityIssue | None
    next_block: int | None
    """Where to continue when the budget ended inside the file; None when done with it."""
    stat: BlobStat | None = None
    """The blob's stat before it was read (None when it could not be read)."""


def _scrub_file(
    layout: RepoLayout, file: RemoteFile, first: int, budget: int, *, first_in_run: bool
) -> _FileScrub:
    table = load_block_table(layout, file.blob_name)
    assert table is not None  # the caller only passes files with a table
    path = layout.blob_path(file.blob_name)
    read = 0
    try:
        stat = BlobStat.of(path)
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        detail = f"cannot be opened ({exc.strerror or exc})"
        return _FileScrub(0, 0, IntegrityIssue(file.path, IssueKind.MISSING, detail), None)
    buffer = bytearray(table.block_bytes)
    try:
        for index in range(first, len(table.hashes)):
            offset = index * table.block_bytes
            length = min(table.block_bytes, file.size_bytes - offset)
            # The budget is a ceiling; only a run's first block may exceed it, so that a
            # budget smaller than a block still makes progress.
            if read + length > budget and not (first_in_run and read == 0):
                return _FileScrub(read, index - first, None, index, stat)
            view = memoryview(buffer)[:length]
            try:
                got = os.preadv(fd, [view], offset)
            except OSError as exc:  # a bad sector: what scrubbing is for
                detail = (
                    f"block {index} (bytes {offset}-{offset + length}) cannot be read "
                    f"({exc.strerror or exc}): the disk may be failing; a repair fetches it "
                    "again"
                )
                issue = IntegrityIssue(file.path, IssueKind.CHECKSUM_MISMATCH, detail)
                return _FileScrub(read, index - first + 1, issue, None, stat)
            read += got
            if got != length or block_digest(table.algorithm, view) != table.hashes[index]:
                detail = (
                    f"block {index} (bytes {offset}-{offset + length}) differs from the digest "
                    "recorded when it was verified: a repair fetches it again"
                )
                issue = IntegrityIssue(file.path, IssueKind.CHECKSUM_MISMATCH, detail)
                return _FileScrub(read, index - first + 1, issue, None, stat)
        return _FileScrub(read, len(table.hashes) - first, None, None, stat)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class _Cursor:
    blob: str | None = None
    block: int = 0
    cycles: int = 0


def _load_cursor(path: Path) -> _Cursor:
    data = read_json(path)
    if not isinstance(data, dict):
        return _Cursor()
    try:
        return _Cursor(str(data["blob"]), int(data["block"]), int(data["cycles"]))
    except (KeyError, TypeError, ValueError):
        return _Cursor()
