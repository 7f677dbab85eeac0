"""Adopting a folder that already holds a model's files into the store.

Users often have the files already: an ``hf download --local-dir`` folder, a copy from
another machine, another app's model folder, or an HF cache snapshot whose files are
symlinks. Each file of the target whose size and checksum match enters the store as its
blob without a second copy on the same disk:

    LINK   a hard link, made under a temporary name in ``blobs/`` and renamed into place
    MOVE   a rename; across disks a copy, fsynced and hashed before the source is removed

A file that does not match is left where it is and fetched later by the ordinary download,
which resumes from what the store holds. Each blob is handled under the same lock a download
of it takes, so the two never race.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import filelock

from modelward.errors import ConfigError, StoreError, StoreLockedError, path_error
from modelward.sources.files import RemoteFile, Target
from modelward.store.hashing import BLOCK_BYTES, BlockHasher, file_matches
from modelward.store.layout import RepoLayout
from modelward.store.locks import blob_file_lock
from modelward.store.manager import ModelManager
from modelward.store.records import (
    BlobStat,
    BlockTable,
    DamagedRecord,
    VerifiedRecord,
    save_block_table,
)
from modelward.store.space import ensure_space
from modelward.store.writer import fsync_dir, fsync_file, remove_partial

logger = logging.getLogger(__name__)

LOCK_WAIT_S = 10.0
"""How long to wait for a blob's lock: a download holds it only briefly for a blob that is
already verified, but for the whole transfer of one it is fetching."""

_TEMP_MARK = ".modelward.adopt-"


class AdoptMode(StrEnum):
    """How a matching file enters the store."""

    LINK = "link"
    """A hard link: the folder keeps its file, both names share the same bytes."""
    MOVE = "move"
    """A rename out of the folder (a copy, then removal of the source, across disks)."""


class AdoptOutcome(StrEnum):
    """What happened to one file of the target."""

    ADOPTED = "adopted"
    ALREADY_PRESENT = "already-present"
    MISSING = "missing"
    SIZE_MISMATCH = "size-mismatch"
    CHECKSUM_MISMATCH = "checksum-mismatch"


_TO_FETCH = frozenset(
    {AdoptOutcome.MISSING, AdoptOutcome.SIZE_MISMATCH, AdoptOutcome.CHECKSUM_MISMATCH}
)


@dataclass(frozen=True, slots=True)
class AdoptedFile:
    """One file of the target and what happened to it."""

    path: str
    size_bytes: int
    outcome: AdoptOutcome
    detail: str


@dataclass(frozen=True, slots=True)
class AdoptReport:
    """What adopting a folder did, file by file."""

    model_id: str
    folder: str
    mode: AdoptMode
    files: tuple[AdoptedFile, ...]

    @property
    def adopted(self) -> list[AdoptedFile]:
        """Files that entered the store from the folder."""
        return [f for f in self.files if f.outcome is AdoptOutcome.ADOPTED]

    @property
    def adopted_bytes(self) -> int:
        """Bytes that entered the store from the folder."""
        return sum(f.size_bytes for f in self.adopted)

    @property
    def to_fetch(self) -> list[str]:
        """Paths the folder could not provide: a download still has to fetch them."""
        return [f.path for f in self.files if f.outcome in _TO_FETCH]

    @property
    def complete(self) -> bool:
        """True when every file of the target is verified in the store."""
        return not self.to_fetch


def adopt_folder(
    manager: ModelManager,
    target: Target,
    folder: Path,
    mode: AdoptMode,
    on_hashed: Callable[[int], None] | None = None,
) -> AdoptReport:
    """Bring the matching files of ``folder`` into the store as ``target``'s blobs
    (blocking; run in a worker thread). ``on_hashed`` hears of each chunk hashed."""
    layout = manager.repo_layout(target.repo_id)
    real_folder = _checked_folder(layout, folder)
    manager.remember(target)
    layout.blobs_dir.mkdir(parents=True, exist_ok=True)
    adoption = _Adoption(manager, target, layout, real_folder, mode, on_hashed)
    files = tuple(adoption.adopt(file) for file in target.files)
    report = AdoptReport(target.model_id, str(real_folder), mode, files)
    if report.complete and files:
        manager.finish(target)
    logger.info(
        "adopted %d of %d files of %s from %s (%s)",
        len(report.adopted),
        len(files),
        target.model_id,
        real_folder,
        mode.value,
    )
    return report


def _checked_folder(layout: RepoLayout, folder: Path) -> Path:
    """The folder, resolved, once it is known to be one we may adopt from."""
    try:
        return _usable_folder(layout, folder)
    except OSError as exc:  # a name too long, a path through a file, a link loop...
        refused = path_error(
            "folder", folder, exc, "Give the folder that holds the model's files by a valid path."
        )
        if refused is None:
            raise
        raise refused from None


def _usable_folder(layout: RepoLayout, folder: Path) -> Path:
    if not folder.exists():
        raise ConfigError(
            f"folder {folder} does not exist",
            hint="Give the folder that holds the model's files (for example the "
            "--local-dir of an 'hf download').",
        )
    if not folder.is_dir():
        raise ConfigError(
            f"{folder} is not a folder",
            hint="Give the folder that holds the model's files, not one file of it.",
        )
    real = folder.resolve()
    with contextlib.suppress(ValueError):
        inside = real.relative_to(layout.cache_dir.resolve()).parts
        if len(inside) >= 2 and inside[1] == "blobs":
            raise StoreError(
                f"{folder} is inside the store's own blobs folder",
                hint="Adopt a folder outside the store; blobs already in it need no "
                "adoption ('modelward verify MODEL' checks them).",
            )
    return real


@dataclass(frozen=True, slots=True)
class _Hashed:
    """What hashing a candidate file found."""

    stat: BlobStat | None
    """Its stat before reading, when it matched and did not change meanwhile."""
    table: BlockTable | None
    detail: str = ""
    """Why it does not match, when it does not."""


@dataclass(frozen=True, slots=True)
class _Placed:
    """A blob now in place, and how it got there."""

    stat: BlobStat
    table: BlockTable
    detail: str


@dataclass(frozen=True, slots=True)
class _Adoption:
    """One adoption run: where files come from and where they go."""

    manager: ModelManager
    target: Target
    layout: RepoLayout
    folder: Path
    mode: AdoptMode
    on_hashed: Callable[[int], None] | None

    def adopt(self, file: RemoteFile) -> AdoptedFile:
        """Adopt one file of the target, under its blob's lock."""
        with _blob_locked(self.layout, file):
            _remove_stale_temps(self.layout, file.blob_name)
            if VerifiedRecord(self.layout).is_verified(file.blob_name):
                self.manager.link(self.target, file)  # verified, maybe never linked here
                return _result(file, AdoptOutcome.ALREADY_PRESENT, "already verified in the store")
            return self._adopt_unverified(file)

    def _adopt_unverified(self, file: RemoteFile) -> AdoptedFile:
        found = _find(self.folder, file)
        if found is None:
            return _result(file, AdoptOutcome.MISSING, "not in the folder")
        real, via_symlink = found
        size = real.stat().st_size
        if size != file.size_bytes:
            detail = f"{size} bytes in the folder, {file.size_bytes} expected"
            return _result(file, AdoptOutcome.SIZE_MISMATCH, detail)
        placed = self._place(file, real, via_symlink)
        if isinstance(placed, str):
            return _result(file, AdoptOutcome.CHECKSUM_MISMATCH, placed)
        self._record(file, placed)
        logger.info("adopted %s from %s: %s", file.path, real, placed.detail)
        return _result(file, AdoptOutcome.ADOPTED, placed.detail)

    def _place(self, file: RemoteFile, real: Path, via_symlink: bool) -> _Placed | str:
        """Put ``real`` in place as the file's blob; a string says why it did not match."""
        if self.mode is AdoptMode.LINK:
            return self._link_in(file, real, "hard-linked")
        if via_symlink:
            # The link's target belongs to someone else (often another cache): moving it
            # would break that folder, so it is shared instead.
            if not _same_disk(real, self.layout.blobs_dir):
                raise _symlink_across_disks(file, real)
            return self._link_in(file, real, f"hard-linked, not moved: it is a link to {real}")
        if not _same_disk(real, self.layout.blobs_dir):
            return self._copy_in(file, real)
        return self._move_in(file, real)

    def _link_in(self, file: RemoteFile, real: Path, detail: str) -> _Placed | str:
        if not _same_disk(real, self.layout.blobs_dir):
            raise _link_across_disks(file, real, self.layout)
        hashed = _hash(real, file, self.on_hashed)
        if hashed.stat is None or hashed.table is None:
            return hashed.detail
        temp = _temp_path(self.layout, file.blob_name)
        try:
            os.link(real, temp)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise _link_across_disks(file, real, self.layout) from exc
            raise
        if BlobStat.of(temp) != hashed.stat:
            temp.unlink()
            return "changed after it was hashed; adopt again when nothing writes it"
        # A crash before this rename leaves only a temporary name, never a half blob.
        os.replace(temp, self.layout.blob_path(file.blob_name))
        fsync_dir(self.layout.blobs_dir)
        return _Placed(hashed.stat, hashed.table, detail)

    def _move_in(self, file: RemoteFile, real: Path) -> _Placed | str:
        hashed = _hash(real, file, self.on_hashed)
        if hashed.stat is None or hashed.table is None:
            return hashed.detail
        blob = self.layout.blob_path(file.blob_name)
        try:
            os.rename(real, blob)  # atomic: the blob appears whole or not at all
        except OSError as exc:
            if exc.errno == errno.EXDEV:  # another mount of the same device
                return self._copy_in(file, real)
            raise
        if BlobStat.of(blob) != hashed.stat:
            os.rename(blob, real)  # what was hashed is not what moved: give it back
            return "changed after it was hashed; adopt again when nothing writes it"
        fsync_dir(self.layout.blobs_dir)
        fsync_dir(real.parent)
        return _Placed(hashed.stat, hashed.table, "moved")

    def _copy_in(self, file: RemoteFile, real: Path) -> _Placed | str:
        ensure_space(self.layout.blobs_dir, file.size_bytes, f"moving {file.path} across disks")
        temp = _temp_path(self.layout, file.blob_name)
        try:
            shutil.copyfile(real, temp)
            fsync_file(temp)
            # The copy is what the store keeps, so the copy is what must match.
            hashed = _hash(temp, file, self.on_hashed)
            if hashed.stat is None or hashed.table is None:
                temp.unlink()
                return hashed.detail
            os.replace(temp, self.layout.blob_path(file.blob_name))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        fsync_dir(self.layout.blobs_dir)
        real.unlink()
        fsync_dir(real.parent)
        return _Placed(
            hashed.stat, hashed.table, "copied across disks, then removed from the folder"
        )

    def _record(self, file: RemoteFile, placed: _Placed) -> None:
        """Record the blob as verified with the stat taken before it was read, and link it."""
        save_block_table(self.layout, file.blob_name, placed.table)
        VerifiedRecord(self.layout).mark(file.blob_name, placed.stat)
        DamagedRecord(self.layout).forget(file.blob_name)
        remove_partial(self.layout, file.blob_name)  # an interrupted download of it is moot
        self.manager.link(self.target, file)


def _result(file: RemoteFile, outcome: AdoptOutcome, detail: str) -> AdoptedFile:
    return AdoptedFile(file.path, file.size_bytes, outcome, detail)


@contextlib.contextmanager
def _blob_locked(layout: RepoLayout, file: RemoteFile) -> Iterator[None]:
    """Hold the lock a download of this blob takes (huggingface_hub's lock file)."""
    lock = blob_file_lock(layout, file.blob_name)
    try:
        lock.acquire(timeout=LOCK_WAIT_S)
    except filelock.Timeout:
        raise StoreLockedError(
            f"{file.path} of {layout.repo_id} is being written by a download",
            hint="Wait for that download to finish or pause it, then adopt again; the "
            "files adopted so far stay adopted.",
        ) from None
    try:
        yield
    finally:
        lock.release()


def _find(folder: Path, file: RemoteFile) -> tuple[Path, bool] | None:
    """The real file behind ``folder/path`` and whether a symlink led there; None when
    there is no regular file."""
    inside = folder / file.path
    try:
        real = inside.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, dangling link, or a link loop
        return None
    if not real.is_file():
        return None
    return real, real != inside


def _hash(path: Path, file: RemoteFile, on_hashed: Callable[[int], None] | None) -> _Hashed:
    """Hash ``path`` against ``file``'s checksum and digest its blocks in the same pass,
    as the store does for its own blobs (``store.blobcheck``)."""
    blocks = BlockHasher()
    try:
        before = BlobStat.of(path)
        matches = file_matches(path, file, blocks, on_hashed)
        after = BlobStat.of(path)
    except OSError as exc:  # one unreadable file should not stop the others
        return _Hashed(None, None, f"could not be read ({exc.strerror}); left in the folder")
    if after != before:
        return _Hashed(None, None, "changed while it was read; adopt again when nothing writes it")
    if not matches:
        checksum = "sha256" if file.is_lfs else "git blob id"
        return _Hashed(None, None, f"its {checksum} is not the published one; left in the folder")
    return _Hashed(before, BlockTable(BLOCK_BYTES, blocks.algorithm, tuple(blocks.hexdigests())))


def _same_disk(path: Path, directory: Path) -> bool:
    return path.stat().st_dev == directory.stat().st_dev


def _temp_path(layout: RepoLayout, blob_name: str) -> Path:
    return layout.blobs_dir / f"{blob_name}{_TEMP_MARK}{secrets.token_hex(8)}"


def _remove_stale_temps(layout: RepoLayout, blob_name: str) -> None:
    """Delete temporary names a crashed adoption of this blob left (under its lock, so no
    adoption is using them); each is a second name or a copy, never the only one."""
    for temp in layout.blobs_dir.glob(f"{blob_name}{_TEMP_MARK}*"):
        temp.unlink(missing_ok=True)


def _link_across_disks(file: RemoteFile, real: Path, layout: RepoLayout) -> StoreError:
    return StoreError(
        f"cannot hard-link {file.path} ({real}) into the store: it is on another disk "
        f"than {layout.blobs_dir}",
        hint="Adopt with --move (files are moved, or copied and then removed from the "
        "folder), or put the folder on the store's disk.",
    )


def _symlink_across_disks(file: RemoteFile, real: Path) -> StoreError:
    return StoreError(
        f"cannot adopt {file.path}: it is a link to {real}, on another disk than the store",
        hint="modelward neither moves files out of the folder a link points into nor copies "
        "them silently: put that folder on the store's disk, or let 'modelward pull MODEL' "
        "fetch what is missing.",
    )
