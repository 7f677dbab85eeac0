"""What a source says a revision holds: validated paths, remote files and resolved targets.

Everything here is checked at this edge so the layers after it never see a path that could
escape the store, an absurd size or a malformed checksum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NewType

from modelward.catalog.spec import MAX_FILE_SIZE_BYTES
from modelward.errors import HostileMetadataError

RepoPath = NewType("RepoPath", str)
"""A repo-relative POSIX path proven safe by :func:`validate_repo_path`."""

MAX_FILES_PER_REVISION = 100_000
MAX_PATH_CHARS = 1024

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_GIT_OID_RE = re.compile(r"^[0-9a-f]{40}$")
_COMMIT_RE = _GIT_OID_RE


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a sha256 as the Hub writes it (64 lowercase hex digits)."""
    return bool(_SHA256_RE.match(value))


def is_git_oid(value: str) -> bool:
    """Whether ``value`` is a git object id (a commit or blob id: 40 lowercase hex digits)."""
    return bool(_GIT_OID_RE.match(value))


def validate_repo_path(raw: object) -> RepoPath:
    """Return ``raw`` as a RepoPath, or refuse it if it could point outside the repo."""
    if not isinstance(raw, str) or not raw:
        raise HostileMetadataError(f"file path {raw!r} is not a non-empty string")
    if len(raw) > MAX_PATH_CHARS:
        raise HostileMetadataError(f"file path of {len(raw)} characters is too long")
    if "\x00" in raw or any(ord(c) < 0x20 for c in raw):
        raise HostileMetadataError(f"file path {raw!r} contains control characters")
    if "\\" in raw:
        raise HostileMetadataError(f"file path {raw!r} contains a backslash")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise HostileMetadataError(f"file path {raw!r} is absolute")
    parts = raw.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise HostileMetadataError(f"file path {raw!r} has an empty, '.' or '..' component")
    return RepoPath(raw)


def validate_commit(raw: object) -> str:
    """Return ``raw`` if it is a 40-hex commit id, else refuse it."""
    if not isinstance(raw, str) or not _COMMIT_RE.match(raw):
        raise HostileMetadataError(f"commit {raw!r} is not a 40-character hex id")
    return raw


def validate_size(raw: object, path: str) -> int:
    """Return ``raw`` as a file size if it is plausible, else refuse it."""
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise HostileMetadataError(f"file {path!r} has an invalid size {raw!r}")
    if raw > MAX_FILE_SIZE_BYTES:
        raise HostileMetadataError(f"file {path!r} claims an absurd size of {raw} bytes")
    return raw


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file of a revision as the source describes it."""

    path: RepoPath
    size_bytes: int
    sha256: str | None = None
    """sha256 of the content; set for LFS files and plain-URL files."""
    git_oid: str | None = None
    """git blob id (sha1 of ``blob <size>\\0<content>``); set for regular git files."""
    url: str | None = None
    """Direct download URL; set for plain-URL files only."""

    def __post_init__(self) -> None:
        if self.sha256 is not None and not _SHA256_RE.match(self.sha256):
            raise HostileMetadataError(f"file {self.path!r} has a malformed sha256")
        if self.git_oid is not None and not _GIT_OID_RE.match(self.git_oid):
            raise HostileMetadataError(f"file {self.path!r} has a malformed git blob id")
        if self.sha256 is None and self.git_oid is None:
            raise HostileMetadataError(f"file {self.path!r} comes with no checksum")

    @property
    def is_lfs(self) -> bool:
        """True when the content is identified by sha256 (LFS or pinned URL file)."""
        return self.sha256 is not None

    @property
    def blob_name(self) -> str:
        """The blob's file name in the HF cache: the sha256 for LFS files, else the git id."""
        return self.sha256 if self.sha256 is not None else str(self.git_oid)


@dataclass(frozen=True, slots=True)
class Target:
    """A catalog entry resolved to one commit and the files selected from it."""

    model_id: str
    repo_id: str
    revision: str
    commit: str
    files: tuple[RemoteFile, ...]
    listing: tuple[RemoteFile, ...] = ()
    """Every file of the commit, selected or not (empty: not known). Recorded with the
    manifest, so another entry of the same repo with other globs never takes this
    entry's selection for the whole commit."""

    @property
    def size_bytes(self) -> int:
        """Total bytes of the selected files."""
        return sum(f.size_bytes for f in self.files)

    def file(self, path: str) -> RemoteFile:
        """Return the selected file at ``path``."""
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)


def check_unique_paths(files: Iterable[RemoteFile]) -> tuple[RemoteFile, ...]:
    """Return the files as a tuple, refusing duplicates and file/dir clashes."""
    result = tuple(files)
    if len(result) > MAX_FILES_PER_REVISION:
        raise HostileMetadataError(f"revision lists {len(result)} files; refusing")
    seen: set[str] = set()
    for f in result:
        key = f.path.casefold()
        if key in seen:
            raise HostileMetadataError(f"file path {f.path!r} is listed twice")
        seen.add(key)
    dirs = {
        "/".join(f.path.split("/")[:i]) for f in result for i in range(1, f.path.count("/") + 1)
    }
    for f in result:
        if f.path in dirs:
            raise HostileMetadataError(f"path {f.path!r} is both a file and a directory")
    return result
