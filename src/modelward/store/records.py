"""modelward's small on-disk records: manifests, verification stats and resume state.

Each record is one JSON file replaced atomically, so a crash leaves the old or the new
version and never half of one. Records are hints: the blobs themselves stay the truth,
and a lost record only costs a re-check.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from modelward.errors import InsufficientSpaceError, ModelwardError
from modelward.sources.files import RemoteFile, Target, validate_repo_path
from modelward.store.layout import RepoLayout
from modelward.store.space import free_bytes
from modelward.units import format_size

_write_lock = threading.Lock()


def write_json_atomic(path: Path, data: object, *, durable: bool = True) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file, fsync (when ``durable``)
    and rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # a half-written copy would only take more space
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _records_disk_full(path) from exc
        raise


def _records_disk_full(path: Path) -> InsufficientSpaceError:
    """A record that cannot be written for lack of space, naming the disk that holds it
    (MODELWARD_HOME's, which need not be the cache's)."""
    free = free_bytes(path.parent)
    return InsufficientSpaceError(
        f"the disk holding modelward's records is full: cannot write {path} "
        f"({format_size(free)} free)",
        needed_bytes=0,
        free_bytes=free,
        hint="Free space on that disk (it holds MODELWARD_HOME), or point MODELWARD_HOME at "
        "a larger disk; the download resumes where it stopped.",
    )


def read_json(path: Path) -> Any:
    """Return the JSON in ``path``, or None when it is missing or unreadable."""
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def save_manifest(layout: RepoLayout, target: Target) -> None:
    """Remember which files a commit holds, so status works without the network.

    Several catalog entries may select different files of one commit; the record keeps the
    union of what they saw, and each entry filters it with its own globs when loaded.
    """
    known = load_manifest(layout, target.commit)
    files = {f.path: f for f in (known.files if known else ())}
    files.update({f.path: f for f in (*target.listing, *target.files)})
    write_json_atomic(
        layout.manifest_path(target.commit),
        {
            "repo_id": target.repo_id,
            "commit": target.commit,
            "files": [asdict(f) for f in sorted(files.values(), key=lambda f: f.path)],
        },
    )


def load_manifest(layout: RepoLayout, commit: str) -> Target | None:
    """Return every file recorded for ``commit`` (model and revision left blank)."""
    data = read_json(layout.manifest_path(commit))
    if not isinstance(data, dict):
        return None
    try:
        files = tuple(
            RemoteFile(
                path=validate_repo_path(f["path"]),
                size_bytes=int(f["size_bytes"]),
                sha256=f.get("sha256"),
                git_oid=f.get("git_oid"),
                url=f.get("url"),
            )
            for f in data["files"]
        )
        return Target(
            model_id="",
            repo_id=str(data["repo_id"]),
            revision="",
            commit=str(data["commit"]),
            files=files,
        )
    except (KeyError, TypeError, ValueError, ModelwardError):
        return None


@dataclass(frozen=True, slots=True)
class BlobStat:
    """The stat of a blob when it was last verified; a quick check compares against it."""

    size_bytes: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> BlobStat:
        """Stat ``path`` (following no symlink: blobs are regular files)."""
        st = path.stat()
        return cls(size_bytes=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino)


class _StatRecord:
    """Blobs of a repo with their stat at the moment something was learnt about them."""

    def __init__(self, layout: RepoLayout, path: Path) -> None:
        self._path = path
        self._layout = layout
        self._cached: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        data = read_json(self._path)
        self._cached = data if isinstance(data, dict) else {}
        return self._cached

    def _entry(self, blob_name: str, stat: BlobStat | None) -> dict[str, Any] | None:
        """The blob's entry when the blob is unchanged since it was recorded."""
        data = self._cached if self._cached is not None else self._load()
        entry = data.get(blob_name)
        if not isinstance(entry, dict):
            return None
        try:
            now = stat if stat is not None else BlobStat.of(self._layout.blob_path(blob_name))
            recorded = BlobStat(entry["size_bytes"], entry["mtime_ns"], entry["inode"])
        except (OSError, KeyError, TypeError):
            return None
        return entry if now == recorded else None

    def _put(self, blob_name: str, extra: dict[str, Any], stat: BlobStat | None) -> None:
        # The stat must be the one taken before the bytes were read: stamping the stat of
        # whatever is on disk now would vouch for a file that changed meanwhile.
        stat = stat if stat is not None else BlobStat.of(self._layout.blob_path(blob_name))
        with _write_lock:
            data = self._load()
            data[blob_name] = {**asdict(stat), **extra}
            write_json_atomic(self._path, data)

    def forget(self, blob_name: str) -> None:
        """Drop the record of a blob."""
        with _write_lock:
            data = self._load()
            if data.pop(blob_name, None) is not None:
                write_json_atomic(self._path, data)


class VerifiedRecord(_StatRecord):
    """Which blobs of a repo were verified, and their stat at that moment."""

    def __init__(self, layout: RepoLayout) -> None:
        super().__init__(layout, layout.verified_path)

    def is_verified(self, blob_name: str, stat: BlobStat | None = None) -> bool:
        """True when the blob is unchanged since it was last verified (``stat``: its stat
        now, when the caller has it)."""
        return self._entry(blob_name, stat) is not None

    def was_verified(self, blob_name: str) -> bool:
        """True when the blob was verified once, changed since or not."""
        data = self._cached if self._cached is not None else self._load()
        return isinstance(data.get(blob_name), dict)

    def mark(self, blob_name: str, stat: BlobStat | None = None) -> None:
        """Record that the blob was verified (``stat``: its stat before it was read; default:
        its stat now)."""
        self._put(blob_name, {}, stat)


class DamagedRecord(_StatRecord):
    """Blobs a check found damaged, with their stat then, so that status and quick checks
    know without hashing gigabytes again until the file changes."""

    def __init__(self, layout: RepoLayout) -> None:
        super().__init__(layout, layout.records_dir / "damaged.json")

    def reason(self, blob_name: str, stat: BlobStat | None = None) -> str | None:
        """Why the blob was found damaged, while it is unchanged since; else ``None``."""
        found = self.finding(blob_name, stat)
        return found[1] if found is not None else None

    def finding(self, blob_name: str, stat: BlobStat | None = None) -> tuple[str, str] | None:
        """The kind of damage found (an issue kind's value) and why, while the blob is
        unchanged since; else ``None``."""
        entry = self._entry(blob_name, stat)
        if entry is None:
            return None
        return str(entry.get("kind", "checksum-mismatch")), str(entry.get("reason", "damaged"))

    def ranges(self, blob_name: str) -> tuple[tuple[int, int], ...] | None:
        """The damaged blocks' byte ranges a full check found, while the blob is unchanged
        since; else ``None``."""
        entry = self._entry(blob_name, None)
        raw = entry.get("ranges") if entry is not None else None
        try:
            return _ranges(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None

    def mark(
        self,
        blob_name: str,
        reason: str,
        kind: str = "checksum-mismatch",
        stat: BlobStat | None = None,
        ranges: tuple[tuple[int, int], ...] | None = None,
    ) -> None:
        """Record that the blob is damaged, how and why (``stat``: its stat before it was
        read, default: its stat now; ``ranges``: its damaged blocks, when compared)."""
        extra: dict[str, Any] = {"kind": kind, "reason": reason, "found_at": time.time()}
        if ranges is not None:
            extra["ranges"] = [list(r) for r in ranges]
        self._put(blob_name, extra, stat)


@dataclass(frozen=True, slots=True)
class PartialRecord:
    """What is known about a blob's ``.incomplete`` file, to resume it safely.

    Two kinds of ranges: ``done`` was fsynced and survives anything; ``written`` is in the
    page cache, which survives a killed process but not a power cut. ``written`` is trusted
    only while the machine has not restarted since (same ``boot_id``), so a process kill
    loses almost nothing while the costly fsync runs only once a second. The two are kept in
    separate files, so a power cut during a ``written`` update never harms ``done``.
    """

    blob_name: str
    size_bytes: int
    commit: str
    path: str
    done: tuple[tuple[int, int], ...] = ()
    """Byte ranges ``[start, end)`` fsynced to the partial file."""
    written: tuple[tuple[int, int], ...] = ()
    """Byte ranges written (not necessarily fsynced) when the record was saved."""
    boot_id: str | None = None
    """The machine's boot when ``written`` was recorded."""

    def trusted_ranges(self) -> tuple[tuple[int, int], ...]:
        """The ranges whose bytes are sure to be in the file now."""
        boot = current_boot_id()
        if not self.written or boot is None or boot != self.boot_id:
            return self.done
        # Either record may be the newer one: together they are what the file holds.
        merged: list[tuple[int, int]] = []
        for start, end in sorted(self.done + self.written):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return tuple(merged)


@functools.cache
def current_boot_id() -> str | None:
    """An id that changes whenever the machine restarts (Linux), else None."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def save_partial(layout: RepoLayout, record: PartialRecord) -> None:
    """Persist a blob's resume record, fsynced (its ``done`` ranges must be on disk)."""
    write_json_atomic(layout.partial_record_path(record.blob_name), asdict(record))


def save_written(layout: RepoLayout, blob_name: str, written: tuple[tuple[int, int], ...]) -> None:
    """Record the ranges written so far, without an fsync (trusted until a restart)."""
    write_json_atomic(
        layout.partial_live_path(blob_name),
        {"written": written, "boot_id": current_boot_id()},
        durable=False,
    )


def load_partial(layout: RepoLayout, blob_name: str) -> PartialRecord | None:
    """Return the resume record of a blob, if there is a sound one."""
    data = read_json(layout.partial_record_path(blob_name))
    if not isinstance(data, dict):
        return None
    try:
        done = _ranges(data.pop("done", []))
        written = _ranges(data.pop("written", []))
        record = PartialRecord(**data, done=done, written=written)
    except (TypeError, ValueError):
        return None
    live = read_json(layout.partial_live_path(blob_name))
    if isinstance(live, dict) and live.get("boot_id") == current_boot_id():
        with contextlib.suppress(TypeError, ValueError):
            record = replace(
                record, written=_ranges(live.get("written")), boot_id=str(live["boot_id"])
            )
    return record


def remove_partial_records(layout: RepoLayout, blob_name: str) -> None:
    """Forget a blob's resume records (after promotion, or with its partial file)."""
    layout.partial_record_path(blob_name).unlink(missing_ok=True)
    layout.partial_live_path(blob_name).unlink(missing_ok=True)


def _ranges(raw: object) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list):
        raise TypeError("ranges must be a list")
    return tuple((int(s), int(e)) for s, e in raw)


@dataclass(frozen=True, slots=True)
class BlockTable:
    """The digest of each fixed-size block of a verified blob, to find and refetch damage."""

    block_bytes: int
    algorithm: str
    hashes: tuple[str, ...]


def save_block_table(layout: RepoLayout, blob_name: str, table: BlockTable) -> None:
    """Record a verified blob's block table."""
    write_json_atomic(
        layout.block_table_path(blob_name),
        {"block_bytes": table.block_bytes, "algorithm": table.algorithm, "hashes": table.hashes},
    )


def load_block_table(layout: RepoLayout, blob_name: str) -> BlockTable | None:
    """Return a blob's block table, if one was recorded."""
    data = read_json(layout.block_table_path(blob_name))
    if not isinstance(data, dict):
        return None
    try:
        if "hashes" in data:
            algorithm, hashes = str(data["algorithm"]), data["hashes"]
        else:  # the first format: sha256 only
            algorithm, hashes = "sha256", data["sha256"]
        return BlockTable(int(data["block_bytes"]), algorithm, tuple(str(h) for h in hashes))
    except (KeyError, TypeError, ValueError):
        return None


def save_index_shards(layout: RepoLayout, blob_name: str, shards: list[str]) -> None:
    """Record the shard names a verified shard index blob lists (its content never changes:
    the blob is named by its hash), so structural checks need not parse it again."""
    write_json_atomic(
        layout.records_dir / "indexes" / f"{blob_name}.json", {"shards": shards}, durable=False
    )


def load_index_shards(layout: RepoLayout, blob_name: str) -> list[str] | None:
    """The shard names recorded for an index blob, if any."""
    data = read_json(layout.records_dir / "indexes" / f"{blob_name}.json")
    if not isinstance(data, dict) or not isinstance(data.get("shards"), list):
        return None
    return [str(s) for s in data["shards"]]
