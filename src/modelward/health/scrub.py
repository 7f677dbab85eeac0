"""Scrub: check a rotating sample of blocks against their block tables, within a byte budget.

A full check of a 130 GB model reads 130 GB. A scrub reads at most its budget per run and
continues next run where the last one stopped, so over successive runs every block of every
verified blob is read and compared, and silent damage (bit rot, a bad sector, a stray write
that kept the stat) is found without ever paying for a full pass at once. The position is a
small record per repo; losing it only restarts the rotation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.sources import RemoteFile, Target
from modelward.store.hashing import block_digest
from modelward.store.layout import RepoLayout
from modelward.store.records import (
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
    cursor_path = layout.records_dir / "scrub" / f"{target.commit}.json"
    cursor = _load_cursor(cursor_path)
    names = [f.blob_name for f in files]
    index = names.index(cursor.blob) if cursor.blob in names else 0
    block = cursor.block if cursor.blob in names else 0
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
            DamagedRecord(layout).mark(file.blob_name, result.issue.detail)
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


def _scrub_file(
    layout: RepoLayout, file: RemoteFile, first: int, budget: int, *, first_in_run: bool
) -> _FileScrub:
    table = load_block_table(layout, file.blob_name)
    assert table is not None  # the caller only passes files with a table
    buffer = bytearray(table.block_bytes)
    read = 0
    fd = os.open(layout.blob_path(file.blob_name), os.O_RDONLY)
    try:
        for index in range(first, len(table.hashes)):
            offset = index * table.block_bytes
            length = min(table.block_bytes, file.size_bytes - offset)
            # The budget is a ceiling; only a run's first block may exceed it, so that a
            # budget smaller than a block still makes progress.
            if read + length > budget and not (first_in_run and read == 0):
                return _FileScrub(read, index - first, None, index)
            view = memoryview(buffer)[:length]
            got = os.preadv(fd, [view], offset)
            read += got
            if got != length or block_digest(table.algorithm, view) != table.hashes[index]:
                detail = (
                    f"block {index} (bytes {offset}-{offset + length}) differs from the digest "
                    "recorded when it was verified: run `modelward repair`"
                )
                issue = IntegrityIssue(file.path, IssueKind.CHECKSUM_MISMATCH, detail)
                return _FileScrub(read, index - first + 1, issue, None)
        return _FileScrub(read, len(table.hashes) - first, None, None)
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
