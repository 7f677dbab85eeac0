"""Quarantine: damaged bytes are set aside with a record of why, never silently deleted.

Entries live under ``MODELWARD_HOME/quarantine/{id}/`` (``file`` and ``record.json``).
``file`` is the whole damaged blob (a hard link to it while a repair builds its
replacement beside it, so the snapshot never loses the file), or, when a block repair
reuses the blob's good blocks, only its damaged blocks (one after another; the record
names their ranges), since the rest of the damaged file is byte for byte the repaired one.
The folder has a size cap: when a new entry would pass it, entries whose file is whole
again go, oldest first (the others stay, over the cap if need be, with a warning); and
``purge`` deletes on request only entries whose file is back in the store, verified (a
backup is never dropped before its replacement is known good), unless forced.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from modelward.store.layout import RepoLayout
from modelward.store.records import BlobStat, VerifiedRecord, read_json, write_json_atomic
from modelward.store.writer import fsync_dir, fsync_file
from modelward.units import format_size

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One quarantined file and why it is there."""

    entry_id: str
    repo_id: str
    path: str
    """The file's path in its repo."""
    blob_name: str
    reason: str
    size_bytes: int
    """Bytes kept in quarantine."""
    quarantined_at: float
    ranges: list[list[int]] | None = None
    """The byte ranges of the damaged file that ``file`` holds, in order; None: all of it."""
    file_size_bytes: int | None = None
    """The damaged file's size (when only some of its ranges are kept)."""


class Quarantine:
    """The quarantine folder of one ``MODELWARD_HOME``."""

    def __init__(self, home: Path, cap_bytes: int, cache_dir: Path | None = None) -> None:
        self.root = home / "quarantine"
        self.cache_dir = cache_dir
        self.cap_bytes = cap_bytes

    def put(
        self, source: Path, *, repo_id: str, path: str, blob_name: str, reason: str
    ) -> QuarantineEntry:
        """Move ``source`` into quarantine (blocking; same file system: a rename)."""
        entry = self._new_entry(
            repo_id, path, blob_name, reason, size=source.stat().st_size, ranges=None
        )
        shutil.move(source, self.root / entry.entry_id / "file")
        return entry

    def keep(
        self, source: Path, *, repo_id: str, path: str, blob_name: str, reason: str
    ) -> QuarantineEntry:
        """Keep all of ``source`` without moving it (blocking): a hard link, or a copy on
        another file system. A repair replaces the file by a rename, so this copy keeps the
        damaged bytes while the file stays served until then."""
        entry = self._new_entry(
            repo_id, path, blob_name, reason, size=source.stat().st_size, ranges=None
        )
        kept = self.root / entry.entry_id / "file"
        try:
            os.link(source, kept)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(source, kept)
            fsync_file(kept)
        fsync_dir(kept.parent)
        return entry

    def put_ranges(
        self,
        source: Path,
        ranges: tuple[tuple[int, int], ...],
        *,
        repo_id: str,
        path: str,
        blob_name: str,
        reason: str,
    ) -> QuarantineEntry:
        """Copy ``ranges`` of ``source`` into quarantine, durably; ``source`` stays."""
        entry = self._new_entry(
            repo_id,
            path,
            blob_name,
            reason,
            size=sum(end - start for start, end in ranges),
            ranges=ranges,
            file_size=source.stat().st_size,
        )
        folder = self.root / entry.entry_id
        with source.open("rb") as src, (folder / "file").open("wb") as dst:
            for start, end in ranges:
                src.seek(start)
                remaining = end - start
                while remaining and (chunk := src.read(min(remaining, 8 * 1024 * 1024))):
                    dst.write(chunk)
                    remaining -= len(chunk)
            dst.flush()
            # The caller overwrites these bytes next: they must be on disk first.
            os.fsync(dst.fileno())
        fsync_dir(folder)
        return entry

    def _new_entry(
        self,
        repo_id: str,
        path: str,
        blob_name: str,
        reason: str,
        *,
        size: int,
        ranges: tuple[tuple[int, int], ...] | None,
        file_size: int | None = None,
    ) -> QuarantineEntry:
        """Make room, then create the entry's folder and its record (before any bytes: a
        crash between the two leaves a record without a file, never a file nobody can
        explain)."""
        self._make_room(size)
        entry = QuarantineEntry(
            entry_id=f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}",
            repo_id=repo_id,
            path=path,
            blob_name=blob_name,
            reason=reason,
            size_bytes=size,
            quarantined_at=time.time(),
            ranges=[[start, end] for start, end in ranges] if ranges is not None else None,
            file_size_bytes=file_size,
        )
        folder = self.root / entry.entry_id
        folder.mkdir(parents=True)
        write_json_atomic(folder / "record.json", asdict(entry))
        fsync_dir(self.root)
        return entry

    def entries(self) -> list[QuarantineEntry]:
        """Every entry, oldest first (blocking)."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            data = read_json(folder / "record.json")
            if isinstance(data, dict):
                try:
                    found.append(QuarantineEntry(**data))
                except TypeError:
                    continue
        return sorted(found, key=lambda e: e.quarantined_at)

    def used_bytes(self) -> int:
        """Bytes the quarantined files take."""
        return sum(self._size(e) for e in self.entries())

    def replacement_verified(self, entry: QuarantineEntry) -> bool:
        """True when the file the entry was taken from is back in the store, verified
        (without a store to look at, assumed)."""
        if self.cache_dir is None:
            return True
        layout = RepoLayout(self.cache_dir, self.root.parent, entry.repo_id)
        blob = layout.blob_path(entry.blob_name)
        if not blob.is_file():
            return False
        return VerifiedRecord(layout).is_verified(entry.blob_name, BlobStat.of(blob))

    def purge(self, entry_ids: list[str] | None = None, *, force: bool = False) -> int:
        """Delete the given entries (all when None) whose file is back in the store,
        verified (every one with ``force``); return the bytes freed (blocking)."""
        freed = 0
        for entry in self.entries():
            if entry_ids is not None and entry.entry_id not in entry_ids:
                continue
            if not force and not self.replacement_verified(entry):
                continue  # the only bytes of that file there are: keep them until repaired
            freed += self._size(entry)
            shutil.rmtree(self.root / entry.entry_id, ignore_errors=True)
        return freed

    def _make_room(self, incoming: int) -> None:
        entries = self.entries()
        used = sum(self._size(e) for e in entries)
        for entry in entries:
            if used + incoming <= self.cap_bytes:
                return
            if not self.replacement_verified(entry):
                continue  # the only bytes of a file not yet repaired: never dropped
            used -= self._size(entry)
            shutil.rmtree(self.root / entry.entry_id, ignore_errors=True)
        if used + incoming > self.cap_bytes:
            logger.warning(
                "quarantine holds %d bytes over its cap: entries whose files are not repaired "
                "yet are kept (repair them, or `modelward quarantine purge --force`)",
                used + incoming - self.cap_bytes,
            )

    def _size(self, entry: QuarantineEntry) -> int:
        try:
            return os.stat(self.root / entry.entry_id / "file").st_size
        except OSError:
            return 0


def describe(entry: QuarantineEntry) -> str:
    """One line for a person."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.quarantined_at))
    kept = format_size(entry.size_bytes)
    if entry.ranges is not None:
        whole = "?" if entry.file_size_bytes is None else format_size(entry.file_size_bytes)
        kept += f" (its {len(entry.ranges)} damaged block(s) of {whole})"
    return f"{entry.entry_id}  {entry.repo_id}/{entry.path}  {kept}  {when}  {entry.reason}"
