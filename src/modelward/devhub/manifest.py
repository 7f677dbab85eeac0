"""What a commit of a synthetic repo holds: files, sizes, hashes and where the bytes are."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The Hub stores these in LFS; everything else is a plain git blob.
LFS_PATTERNS = ("*.safetensors", "*.model", "*.pth", "*.bin", "*tokenizer.json")


def is_lfs_path(path: str) -> bool:
    """Whether the Hub would store ``path`` in LFS."""
    return any(fnmatch.fnmatch(path, pattern) for pattern in LFS_PATTERNS)


def git_blob_oid(content: bytes) -> str:
    """The git blob id of ``content``: sha1 of ``b"blob <size>\\0" + content``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The LFS pointer file git stores in place of an LFS file's bytes."""
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    return text.encode()


@dataclass(frozen=True)
class ManifestFile:
    """One file of a commit: ``sha256`` is set for LFS files only, as on the Hub."""

    path: str
    size: int
    sha256: str | None
    git_oid: str
    is_lfs: bool
    local_path: Path
    content_sha256: str

    @property
    def etag(self) -> str:
        """The value the Hub puts (quoted) in ETag / X-Linked-Etag for this file."""
        return self.sha256 if self.sha256 is not None else self.git_oid

    @property
    def pointer_size(self) -> int:
        """Size of the LFS pointer file (0 for regular files)."""
        return len(lfs_pointer(self.sha256, self.size)) if self.sha256 is not None else 0


@dataclass(frozen=True)
class RepoManifest:
    """One commit of a synthetic repo."""

    repo_id: str
    commit: str
    parent: str | None
    files: tuple[ManifestFile, ...]

    def file(self, path: str) -> ManifestFile:
        """The file at ``path``; KeyError if there is none."""
        for entry in self.files:
            if entry.path == path:
                return entry
        raise KeyError(path)

    @property
    def total_size(self) -> int:
        """Bytes of all files of the commit."""
        return sum(f.size for f in self.files)


def commit_sha(parent: str | None, files: tuple[ManifestFile, ...]) -> str:
    """A deterministic 40-hex commit id from the parent and the files' git ids."""
    lines = [f"parent {parent or ''}"] + [f"{f.git_oid} {f.path}" for f in files]
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def manifest_dict(manifest: RepoManifest, root: Path | None = None) -> dict[str, Any]:
    """``manifest`` as JSON-able data; local paths relative to ``root`` when given."""
    return {
        "repo_id": manifest.repo_id,
        "commit": manifest.commit,
        "parent": manifest.parent,
        "files": [
            {
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "git_oid": f.git_oid,
                "is_lfs": f.is_lfs,
                "local_path": str(f.local_path.relative_to(root) if root else f.local_path),
                "content_sha256": f.content_sha256,
            }
            for f in manifest.files
        ],
    }


def dump_manifest(manifest: RepoManifest, root: Path) -> str:
    """Serialise ``manifest`` as JSON with local paths relative to ``root``."""
    return json.dumps(manifest_dict(manifest, root), indent=1)


def load_manifest(text: str, root: Path) -> RepoManifest:
    """Parse what ``dump_manifest`` wrote."""
    raw = json.loads(text)
    files = tuple(
        ManifestFile(
            f["path"],
            f["size"],
            f["sha256"],
            f["git_oid"],
            f["is_lfs"],
            root / f["local_path"],
            f["content_sha256"],
        )
        for f in raw["files"]
    )
    return RepoManifest(raw["repo_id"], raw["commit"], raw["parent"], files)
