"""The seed's base ModelManager: which catalog models are on disk, verified, and where.

It checks files against a resolved :class:`Target` and never changes the cache while doing
so: a blob some other tool (such as ``hf download``) left is hashed once and recorded as
verified in modelward's own records; linking and refs are left to the downloader, the one
writer. A model fetched earlier by ``hf`` is therefore reported available, and a pull of it
fetches nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from modelward.catalog import Catalog, ModelSpec
from modelward.sources import RemoteFile, Target
from modelward.store.blobcheck import check_blob
from modelward.store.layout import RepoLayout
from modelward.store.look import StoreLook
from modelward.store.records import (
    DamagedRecord,
    VerifiedRecord,
    load_manifest,
    load_partial,
    save_manifest,
)
from modelward.store.writer import (
    fsync_dir,
    link_snapshot,
    read_ref,
    snapshot_link_ok,
    write_ref,
)


class FileState(StrEnum):
    """What the store holds for one file of a target."""

    VERIFIED = "verified"
    UNLINKED = "unlinked"
    """The blob is verified but its snapshot link is missing (a crash between the steps)."""
    PARTIAL = "partial"
    MISSING = "missing"
    DAMAGED = "damaged"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """One file of a target and its state on disk."""

    file: RemoteFile
    state: FileState
    present_bytes: int


@dataclass(frozen=True)
class LocalModel:
    """A target and the state of each of its files on disk (immutable, so its totals are
    computed once: kept looks are read by many status reads)."""

    target: Target
    """What was looked at. A kept look (:meth:`ModelManager.look_known`) is shared by the
    catalog entries of the same repo, revision and globs: its ``model_id`` is empty."""
    files: tuple[LocalFile, ...]
    snapshot_dir: Path
    derived: dict[object, object] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    """Figures the layers above derive from this look, kept with it (it never changes)."""

    @functools.cached_property
    def complete(self) -> bool:
        """True when every file is present and verified."""
        return all(f.state is FileState.VERIFIED for f in self.files)

    @property
    def missing_files(self) -> list[str]:
        """Paths of files not present and verified."""
        return list(self._missing)

    @functools.cached_property
    def _missing(self) -> tuple[str, ...]:
        return tuple(f.file.path for f in self.files if f.state is not FileState.VERIFIED)

    @functools.cached_property
    def verified_bytes(self) -> int:
        """Bytes of verified files."""
        return sum(f.file.size_bytes for f in self.files if f.state is FileState.VERIFIED)

    @functools.cached_property
    def present_bytes(self) -> int:
        """Bytes on disk for this target, verified or partial."""
        return sum(f.present_bytes for f in self.files)

    @functools.cached_property
    def size_bytes(self) -> int:
        """Bytes of the target's files (its ``size_bytes``)."""
        return self.target.size_bytes

    @functools.cached_property
    def has_partial_data(self) -> bool:
        """True when an interrupted download left bytes to resume from."""
        return any(f.state is FileState.PARTIAL for f in self.files)


class ModelManager:
    """Catalog plus store: what models exist, which files are on disk, and where."""

    def __init__(self, catalog: Catalog, cache_dir: Path, home: Path) -> None:
        self.catalog = catalog
        self.cache_dir = cache_dir
        self.home = home
        self._in_use: Counter[str] = Counter()
        self.look: StoreLook[LocalModel] = StoreLook(
            self.repo_layout, self._find_target, self._inspect
        )
        """Looks kept between status reads (see :mod:`modelward.store.look`)."""

    def acquire(self, model_id: str) -> None:
        """Mark ``model_id`` in use (loaded by a job); nothing may remove it meanwhile."""
        self._in_use[model_id] += 1

    def release(self, model_id: str) -> None:
        """Undo one :meth:`acquire`."""
        if self._in_use[model_id] > 0:
            self._in_use[model_id] -= 1

    def in_use(self, model_id: str) -> bool:
        """True while a job of this process holds the model."""
        return self._in_use[model_id] > 0

    def loaded_count(self) -> int:
        """How many models jobs of this process hold right now."""
        return sum(1 for count in self._in_use.values() if count > 0)

    def spec(self, model_id: str) -> ModelSpec:
        """The catalog entry of ``model_id``."""
        return self.catalog.get(model_id)

    def layout(self, model_id: str) -> RepoLayout:
        """Paths of the model's repository."""
        return self.repo_layout(self.spec(model_id).repo)

    def repo_layout(self, repo_id: str) -> RepoLayout:
        """Paths of a repository in this store."""
        return RepoLayout(self.cache_dir, self.home, repo_id)

    def local_commit(self, model_id: str, *, checked: bool = False) -> str | None:
        """The commit the model's revision points at locally, if it was ever completed
        (``checked``: as :meth:`look_known`)."""
        spec = self.spec(model_id)
        return self.look.local_commit(spec, lambda: self._read_commit(spec), checked=checked)

    def _read_commit(self, spec: ModelSpec) -> str | None:
        layout = self.repo_layout(spec.repo)
        if len(spec.revision) == 40 and layout.snapshot_dir(spec.revision).is_dir():
            return spec.revision
        return read_ref(layout, spec.revision)

    def known_target(self, model_id: str) -> Target | None:
        """The last target resolved for this model (complete or in progress), from records."""
        return self.look.known_target(self.spec(model_id))

    def look_known(
        self,
        model_id: str,
        *,
        verify_unknown: bool = False,
        changed_is_damaged: bool = False,
        checked: bool = False,
    ) -> LocalModel | None:
        """What the store holds of the model's known target (None: never resolved here),
        from the kept look while nothing changed (blocking; ``checked``: the repo was
        validated since :meth:`StoreLook.begin_pass`). Looks are shared by the entries of
        the same repo, revision and globs, so the look's target has no ``model_id``."""
        mode = (verify_unknown, changed_is_damaged)
        return self.look.local(self.spec(model_id), mode, checked=checked)

    def _find_target(self, spec: ModelSpec) -> Target | None:
        layout = self.repo_layout(spec.repo)
        # Called by the look while it takes the repo's look: the repo was just validated.
        commit = self.local_commit(spec.id, checked=True)
        candidates: list[Path] = []
        if commit is not None:
            candidates.append(layout.manifest_path(commit))
        manifests = layout.records_dir / "manifests"
        if manifests.is_dir():
            # Newest first: an unfinished download of a newer commit is what is in progress.
            candidates += sorted(
                manifests.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True
            )
        for path in candidates:
            target = self.target_at(spec.id, path.stem)
            if target is not None and target.files:
                return target
        return None

    def target_on_disk(self, model_id: str) -> Target | None:
        """The model's known target when any of its bytes are on disk (blocking; never
        hashes). None when none are: never downloaded (its files may still be known), as
        its status says."""
        local = self.look_known(model_id)
        return self.known_target(model_id) if local is not None and local.present_bytes else None

    async def inspect_known(self, model_id: str) -> LocalModel | None:
        """What the store holds of the model's known target, never hashing (off the loop;
        None: its files were never resolved here)."""
        return await asyncio.to_thread(self.look_known, model_id)

    def target_at(self, model_id: str, commit: str) -> Target | None:
        """The model's files at ``commit``, from the recorded manifest (None: never seen)."""
        spec = self.spec(model_id)
        recorded = load_manifest(self.layout(model_id), commit)
        if recorded is None:
            return None
        files = tuple(f for f in recorded.files if spec.selects(f.path))
        return dataclasses.replace(recorded, model_id=model_id, revision=spec.revision, files=files)

    def paths_used_by_others(self, model_id: str, target: Target) -> set[str]:
        """Paths of ``target`` other catalog models of the same commit also use (a
        removal must leave them)."""
        shared: set[str] = set()
        for other in self.catalog:
            if other.id == model_id or other.repo != target.repo_id:
                continue
            theirs = self.known_target(other.id)
            if theirs is not None and theirs.commit == target.commit:
                shared |= {f.path for f in theirs.files}
        return shared

    def remember(self, target: Target) -> None:
        """Save a freshly resolved target so status works offline later."""
        save_manifest(self.repo_layout(target.repo_id), target)
        self.look.invalidate(target.repo_id)

    async def inspect(
        self, target: Target, *, verify_unknown: bool = True, changed_is_damaged: bool = False
    ) -> LocalModel:
        """Check each file of ``target`` on disk; hash blobs not yet verified (off the loop)."""
        return await asyncio.to_thread(self._inspect, target, verify_unknown, changed_is_damaged)

    def _inspect(
        self, target: Target, verify_unknown: bool, changed_is_damaged: bool = False
    ) -> LocalModel:
        layout = self.repo_layout(target.repo_id)
        record = VerifiedRecord(layout)
        files = tuple(
            self._inspect_file(layout, record, target, f, verify_unknown, changed_is_damaged)
            for f in target.files
        )
        return LocalModel(target, files, layout.snapshot_dir(target.commit))

    def _inspect_file(
        self,
        layout: RepoLayout,
        record: VerifiedRecord,
        target: Target,
        file: RemoteFile,
        verify_unknown: bool,
        changed_is_damaged: bool,
    ) -> LocalFile:
        blob = layout.blob_path(file.blob_name)
        verified = record.is_verified(file.blob_name)
        if not verified and blob.is_file():
            if not verify_unknown:
                # Without hashing, a verified blob whose stat changed is what a quick check
                # calls "modified": damaged until a check says otherwise.
                damaged = DamagedRecord(layout).reason(file.blob_name) is not None
                changed = changed_is_damaged and (damaged or record.was_verified(file.blob_name))
                seen = FileState.DAMAGED if changed else FileState.PARTIAL
                return LocalFile(file, seen, _size(blob))
            # A blob a check found damaged is not hashed again until it changes.
            if DamagedRecord(layout).reason(file.blob_name) is not None:
                return LocalFile(file, FileState.DAMAGED, _size(blob))
            state = _verify_found_blob(layout, record, file)
            if state is not None:
                return LocalFile(file, state, _size(blob))
            verified = True
        if verified:
            linked = snapshot_link_ok(layout, target.commit, file)
            state = FileState.VERIFIED if linked else FileState.UNLINKED
            return LocalFile(file, state, file.size_bytes)
        if _size(layout.incomplete_path(file.blob_name)):
            return LocalFile(file, FileState.PARTIAL, _partial_bytes(layout, file))
        return LocalFile(file, FileState.MISSING, 0)

    def mark_verified(self, target: Target, file: RemoteFile) -> None:
        """Record a freshly promoted blob as verified and link it into the snapshot."""
        layout = self.repo_layout(target.repo_id)
        VerifiedRecord(layout).mark(file.blob_name)
        DamagedRecord(layout).forget(file.blob_name)
        link_snapshot(layout, target.commit, file)
        self.look.invalidate(target.repo_id)

    def link(self, target: Target, file: RemoteFile) -> None:
        """Link an already verified blob into the target's snapshot."""
        link_snapshot(self.repo_layout(target.repo_id), target.commit, file)
        self.look.invalidate(target.repo_id)

    def finish(self, target: Target) -> None:
        """Point the revision at the target's commit once all of its files are in place
        (their links made durable first, so a power cut never leaves a ref to a snapshot
        with links missing)."""
        layout = self.repo_layout(target.repo_id)
        folders = {layout.snapshot_path(target.commit, f.path).parent for f in target.files}
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir():
                fsync_dir(folder)
        write_ref(layout, target.revision, target.commit)
        self.look.invalidate(target.repo_id)


def _verify_found_blob(
    layout: RepoLayout, record: VerifiedRecord, file: RemoteFile
) -> FileState | None:
    """Hash a blob found without a record (another tool's, or adopted): None when it is
    verified now (and recorded), else its state."""
    check = check_blob(layout, file)
    if check.changed:
        return FileState.PARTIAL  # something is writing it: not ours to judge yet
    if check.stat is None:
        return FileState.DAMAGED  # unreadable
    if not check.matches:
        DamagedRecord(layout).mark(file.blob_name, "the checksum differs", stat=check.stat)
        return FileState.DAMAGED
    record.mark(file.blob_name, check.stat)
    return None


def _partial_bytes(layout: RepoLayout, file: RemoteFile) -> int:
    """Bytes a partial file holds for sure: the ranges its record names. Its size says
    nothing (it is made sparse at full size before the first byte arrives)."""
    record = load_partial(layout, file.blob_name)
    if record is None or record.size_bytes != file.size_bytes:
        return 0
    return sum(end - start for start, end in record.trusted_ranges())


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
