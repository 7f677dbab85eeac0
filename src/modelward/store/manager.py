"""The seed's base ModelManager: which catalog models are on disk, verified, and where.

It checks files against a resolved :class:`Target`. A blob that some other tool (such as
``hf download``) left in the cache is hashed once, recorded as verified and linked, so a
model fetched earlier is reported available without being fetched again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from modelward.catalog import Catalog, ModelSpec
from modelward.sources import RemoteFile, Target
from modelward.store.hashing import file_matches
from modelward.store.layout import RepoLayout
from modelward.store.records import VerifiedRecord, load_manifest, save_manifest
from modelward.store.writer import link_snapshot, read_ref, write_ref


class FileState(StrEnum):
    """What the store holds for one file of a target."""

    VERIFIED = "verified"
    PARTIAL = "partial"
    MISSING = "missing"
    DAMAGED = "damaged"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """One file of a target and its state on disk."""

    file: RemoteFile
    state: FileState
    present_bytes: int


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A target and the state of each of its files on disk."""

    target: Target
    files: tuple[LocalFile, ...]
    snapshot_dir: Path

    @property
    def complete(self) -> bool:
        """True when every file is present and verified."""
        return all(f.state is FileState.VERIFIED for f in self.files)

    @property
    def missing_files(self) -> list[str]:
        """Paths of files not present and verified."""
        return [f.file.path for f in self.files if f.state is not FileState.VERIFIED]

    @property
    def verified_bytes(self) -> int:
        """Bytes of verified files."""
        return sum(f.file.size_bytes for f in self.files if f.state is FileState.VERIFIED)

    @property
    def present_bytes(self) -> int:
        """Bytes on disk for this target, verified or partial."""
        return sum(f.present_bytes for f in self.files)


class ModelManager:
    """Catalog plus store: what models exist, which files are on disk, and where."""

    def __init__(self, catalog: Catalog, cache_dir: Path, home: Path) -> None:
        self.catalog = catalog
        self.cache_dir = cache_dir
        self.home = home

    def spec(self, model_id: str) -> ModelSpec:
        """The catalog entry of ``model_id``."""
        return self.catalog.get(model_id)

    def layout(self, model_id: str) -> RepoLayout:
        """Paths of the model's repository."""
        return RepoLayout(self.cache_dir, self.home, self.spec(model_id).repo)

    def local_commit(self, model_id: str) -> str | None:
        """The commit the model's revision points at locally, if it was ever completed."""
        spec = self.spec(model_id)
        layout = self.layout(model_id)
        if len(spec.revision) == 40 and layout.snapshot_dir(spec.revision).is_dir():
            return spec.revision
        return read_ref(layout, spec.revision)

    def known_target(self, model_id: str) -> Target | None:
        """The last target resolved for this model (complete or in progress), from records."""
        spec = self.spec(model_id)
        layout = self.layout(model_id)
        commit = self.local_commit(model_id)
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
            recorded = load_manifest(layout, path.stem)
            if recorded is None:
                continue
            files = tuple(f for f in recorded.files if spec.selects(f.path))
            if files:
                return dataclasses.replace(
                    recorded, model_id=model_id, revision=spec.revision, files=files
                )
        return None

    def remember(self, target: Target) -> None:
        """Save a freshly resolved target so status works offline later."""
        save_manifest(RepoLayout(self.cache_dir, self.home, target.repo_id), target)

    async def inspect(self, target: Target, *, verify_unknown: bool = True) -> LocalModel:
        """Check each file of ``target`` on disk; hash blobs not yet verified (off the loop)."""
        return await asyncio.to_thread(self._inspect, target, verify_unknown)

    def _inspect(self, target: Target, verify_unknown: bool) -> LocalModel:
        layout = RepoLayout(self.cache_dir, self.home, target.repo_id)
        record = VerifiedRecord(layout)
        files = tuple(
            self._inspect_file(layout, record, target, f, verify_unknown) for f in target.files
        )
        local = LocalModel(target, files, layout.snapshot_dir(target.commit))
        if local.complete and files:
            write_ref(layout, target.revision, target.commit)
        return local

    def _inspect_file(
        self,
        layout: RepoLayout,
        record: VerifiedRecord,
        target: Target,
        file: RemoteFile,
        verify_unknown: bool,
    ) -> LocalFile:
        blob = layout.blob_path(file.blob_name)
        if record.is_verified(file.blob_name):
            link_snapshot(layout, target.commit, file)
            return LocalFile(file, FileState.VERIFIED, file.size_bytes)
        if blob.is_file():
            if not verify_unknown:
                return LocalFile(file, FileState.PARTIAL, _size(blob))
            if file_matches(blob, file):
                record.mark(file.blob_name)
                link_snapshot(layout, target.commit, file)
                return LocalFile(file, FileState.VERIFIED, file.size_bytes)
            return LocalFile(file, FileState.DAMAGED, _size(blob))
        partial = _size(layout.incomplete_path(file.blob_name))
        if partial:
            return LocalFile(file, FileState.PARTIAL, partial)
        return LocalFile(file, FileState.MISSING, 0)

    def mark_verified(self, target: Target, file: RemoteFile) -> None:
        """Record a freshly promoted blob as verified and link it into the snapshot."""
        layout = RepoLayout(self.cache_dir, self.home, target.repo_id)
        VerifiedRecord(layout).mark(file.blob_name)
        link_snapshot(layout, target.commit, file)

    def finish(self, target: Target) -> None:
        """Point the revision at the target's commit once all of its files are in place."""
        layout = RepoLayout(self.cache_dir, self.home, target.repo_id)
        write_ref(layout, target.revision, target.commit)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
