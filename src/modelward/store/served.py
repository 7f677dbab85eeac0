"""What this node's store may hand to other machines: a repo's files at a commit, and
each file's verified blob opened for reading (the Hub endpoint for plain clients).

A revision is served when it names a commit this store recorded a manifest for: a
40-hex commit id, or a ref (``refs/main``) the downloader wrote once every file was in
place. Its listing is what the node holds of that commit: the files its catalog entries
of the repo select, plus any other file of the commit that is verified here. A listed
file that is not verified now (missing, still arriving, changed or found damaged since)
stays listed and is refused when asked for, so a plain client fails loudly instead of
loading an incomplete model.

A blob is handed out only as an open file descriptor whose ``fstat`` equals the stat the
verification record holds: a blob modified since it was verified, even in place, is
refused, and a blob renamed over afterwards cannot change what was opened.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from modelward.catalog.spec import RepoId, Revision
from modelward.errors import CorruptEntryError, NotInStoreError
from modelward.sources.files import RemoteFile
from modelward.store.layout import RepoLayout
from modelward.store.manager import ModelManager
from modelward.store.records import BlobStat, DamagedRecord, VerifiedRecord, load_manifest
from modelward.store.writer import read_ref

_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_REPO_ID: TypeAdapter[str] = TypeAdapter(RepoId)
_REVISION: TypeAdapter[str] = TypeAdapter(Revision)
_HINT_PULL = (
    "Pull the model on this node first (modelward pull ORG/NAME), or ask a node that has it."
)


@dataclass(frozen=True, slots=True)
class ServedRevision:
    """One commit of a repo as this store serves it."""

    repo_id: str
    commit: str
    files: tuple[RemoteFile, ...]
    """The listing: sorted by path."""

    def lists(self, path: str) -> bool:
        """True when the listing names ``path``."""
        return any(f.path == path for f in self.files)

    def file(self, path: str) -> RemoteFile:
        """The listed file at ``path``; NotInStoreError (``file``) when none is."""
        for f in self.files:
            if f.path == path:
                return f
        raise NotInStoreError(
            f"{self.repo_id}@{self.commit[:12]} has no file {path!r} on this node",
            missing="file",
            hint="The commit's listing names what this node serves: the files its catalog "
            "entries of the repo select, and any other file of the commit verified here.",
        )


def served_revision(manager: ModelManager, repo_id: str, revision: str) -> ServedRevision:
    """The commit ``revision`` names in this store and its listing (blocking; reads
    records and stats blobs, never hashes). NotInStoreError when the repo or the revision
    is not here."""
    layout = manager.repo_layout(_checked_repo(repo_id))
    if not (layout.records_dir / "manifests").is_dir():
        raise NotInStoreError(f"{repo_id} is not in this node's store", missing="repo")
    commit = _commit_of(layout, revision)
    manifest = load_manifest(layout, commit)
    if manifest is None:
        raise _no_revision(repo_id, revision)
    record = VerifiedRecord(layout)
    verified = {f.path for f in manifest.files if record.is_verified(f.blob_name)}
    entries = [s for s in manager.catalog if s.repo == repo_id]
    files = tuple(
        f for f in manifest.files if f.path in verified or any(s.selects(f.path) for s in entries)
    )
    if not verified:
        raise NotInStoreError(
            f"this node holds none of the files of {repo_id}@{commit[:12]}",
            missing="revision",
            hint=_HINT_PULL,
        )
    return ServedRevision(repo_id, commit, tuple(sorted(files, key=lambda f: f.path)))


class OpenBlob:
    """A verified blob opened for reading, with the stat it was verified at."""

    def __init__(self, fd: int, file: RemoteFile, stat: BlobStat) -> None:
        self.fd = fd
        self.file = file
        self.stat = stat

    def read(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (blocking)."""
        return os.pread(self.fd, size, offset)

    def unchanged(self) -> bool:
        """True while the open blob still has the stat it was verified at (a write in
        place changes its mtime)."""
        st = os.fstat(self.fd)
        return BlobStat(st.st_size, st.st_mtime_ns, st.st_ino) == self.stat

    def close(self) -> None:
        """Close the descriptor (once)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


def open_verified(manager: ModelManager, served: ServedRevision, path: str) -> OpenBlob:
    """Open the blob of ``served``'s file at ``path`` if it is verified now (blocking):
    NotInStoreError (``file``) when it is not listed, absent or never verified here;
    CorruptEntryError when it changed since it was verified or a check found it damaged."""
    file = served.file(path)
    layout = manager.repo_layout(served.repo_id)
    what = f"{served.repo_id}/{path}"
    try:
        fd = os.open(layout.blob_path(file.blob_name), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise NotInStoreError(
            f"{what} is not on this node now (missing, or still being fetched)",
            missing="file",
            hint=_HINT_PULL,
        ) from None
    blob = OpenBlob(fd, file, _fstat(fd))
    try:
        _check_verified(layout, blob, what)
    except BaseException:
        blob.close()
        raise
    return blob


def _check_verified(layout: RepoLayout, blob: OpenBlob, what: str) -> None:
    name, stat = blob.file.blob_name, blob.stat
    record = VerifiedRecord(layout)
    if not record.is_verified(name, stat):
        if not record.was_verified(name):
            raise NotInStoreError(
                f"{what} is on this node but not verified yet",
                missing="file",
                hint="Verify it on this node (modelward verify MODEL), then ask again.",
            )
        raise CorruptEntryError(
            f"{what} changed on this node since it was verified; it is not served",
            hint="Check and repair it on this node (modelward verify MODEL, then modelward "
            "repair MODEL), or download it from another node.",
        )
    reason = DamagedRecord(layout).reason(name, stat)
    if reason is not None or stat.size_bytes != blob.file.size_bytes:
        raise CorruptEntryError(
            f"{what} was found damaged on this node ({reason or 'wrong size'}); it is not served",
            hint="Repair it on this node (modelward repair MODEL), or download it from "
            "another node.",
        )


def _commit_of(layout: RepoLayout, revision: str) -> str:
    """The commit ``revision`` names here: itself when it is a commit id, else its ref."""
    if _COMMIT_RE.fullmatch(revision):
        return revision
    try:
        name = _REVISION.validate_python(revision)
    except ValidationError:
        raise _no_revision(layout.repo_id, revision) from None
    commit = read_ref(layout, name)
    if commit is None or not _COMMIT_RE.fullmatch(commit):  # another tool's ref may hold anything
        raise _no_revision(layout.repo_id, revision)
    return commit


def _checked_repo(repo_id: str) -> str:
    try:
        return _REPO_ID.validate_python(repo_id)
    except ValidationError:
        raise NotInStoreError(
            f"{repo_id!r} is not a repo id this node serves", missing="repo"
        ) from None


def _no_revision(repo_id: str, revision: str) -> NotInStoreError:
    return NotInStoreError(
        f"revision {revision!r} of {repo_id} is not in this node's store",
        missing="revision",
        hint="Ask for a revision this node pulled (its ref, like main, or its commit id).",
    )


def _fstat(fd: int) -> BlobStat:
    st = os.fstat(fd)
    return BlobStat(size_bytes=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino)
