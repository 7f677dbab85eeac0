"""A mirror's manifest: what one repo commit holds, as the node that published it verified it.

The manifest is written after every blob it names, so a manifest in the bucket means its
blobs are there. It is the metadata of last resort: trust stays anchored in the Hub's
sha256, and a manifest is believed only when the Hub cannot be asked (unreachable, or
offline mode). Everything read from a bucket is checked here as hub metadata is.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from modelward.errors import HostileMetadataError, MirrorObjectError
from modelward.sources.files import (
    RemoteFile,
    Target,
    check_unique_paths,
    validate_commit,
    validate_repo_path,
    validate_size,
)

FORMAT = 1
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlockDigests:
    """A blob's block table as the publisher recorded it (xxh3-128 per block)."""

    block_bytes: int
    algorithm: str
    hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """One file of a published commit."""

    file: RemoteFile
    blocks: BlockDigests | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every file of one repo commit in a mirror, with its size and checksum."""

    repo_id: str
    commit: str
    files: tuple[ManifestFile, ...]
    """The files published: their blobs are in the mirror."""
    published_by: str = ""
    published_at: float = 0.0
    listing: tuple[RemoteFile, ...] = ()
    """Every file of the commit as the Hub listed it to the publisher (empty: not known), so
    a node selecting files nobody published learns they exist rather than installing a
    model without them."""

    def target(self, model_id: str, revision: str) -> Target:
        """The manifest as the resolved target of a catalog entry: every file of the commit
        (the caller selects; the ones not published must come from the Hub)."""
        listing = self.listing or tuple(f.file for f in self.files)
        return Target(model_id, self.repo_id, revision, self.commit, listing, listing)

    def to_json(self) -> bytes:
        """The manifest's stored form."""
        return json.dumps(
            {
                "format": FORMAT,
                "repo_id": self.repo_id,
                "commit": self.commit,
                "published_by": self.published_by,
                "published_at": self.published_at or time.time(),
                "files": [_file_json(f) for f in self.files],
                "listing": [_file_json(ManifestFile(f)) for f in self.listing],
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> Manifest:
        """Read a stored manifest, refusing anything malformed (``where``: its key)."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise MirrorObjectError(f"the manifest {where} is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MirrorObjectError(f"the manifest {where} is not a format-{FORMAT} manifest")
        entries, listed = data.get("files"), data.get("listing", [])
        if not isinstance(entries, list) or not isinstance(listed, list):
            raise MirrorObjectError(f"the manifest {where} lists no files")
        try:
            files = tuple(_parse_file(e) for e in entries)
            check_unique_paths(f.file for f in files)
            listing = check_unique_paths(_parse_file(e).file for e in listed)
            commit = validate_commit(data.get("commit"))
            published_at = float(data.get("published_at") or 0.0)
        except HostileMetadataError as exc:
            raise MirrorObjectError(f"the manifest {where}: {exc.message}") from None
        except (TypeError, ValueError):
            raise MirrorObjectError(f"the manifest {where}: a malformed publish time") from None
        return cls(
            repo_id=str(data.get("repo_id", "")),
            commit=commit,
            files=files,
            published_by=str(data.get("published_by", "")),
            published_at=published_at,
            listing=listing,
        )


def _file_json(entry: ManifestFile) -> dict[str, object]:
    f = entry.file
    out: dict[str, object] = {"path": f.path, "size": f.size_bytes}
    if f.sha256 is not None:
        out["sha256"] = f.sha256
    if f.git_oid is not None:
        out["git_oid"] = f.git_oid
    if entry.blocks is not None:
        out["blocks"] = {
            "block_bytes": entry.blocks.block_bytes,
            "algorithm": entry.blocks.algorithm,
            "hashes": list(entry.blocks.hashes),
        }
    return out


def _parse_file(raw: object) -> ManifestFile:
    if not isinstance(raw, dict):
        raise HostileMetadataError(f"file entry {raw!r} is not an object")
    path = validate_repo_path(raw.get("path"))
    sha256, git_oid = raw.get("sha256"), raw.get("git_oid")
    if not isinstance(sha256, str | None) or not isinstance(git_oid, str | None):
        raise HostileMetadataError(f"file {path!r} has a malformed checksum")
    file = RemoteFile(path, validate_size(raw.get("size"), path), sha256, git_oid)
    return ManifestFile(file, _parse_blocks(raw.get("blocks"), path))


def _parse_blocks(raw: object, path: str) -> BlockDigests | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HostileMetadataError(f"file {path!r} has a malformed block table")
    size, algorithm, hashes = raw.get("block_bytes"), raw.get("algorithm"), raw.get("hashes")
    if not isinstance(size, int) or size <= 0 or not isinstance(algorithm, str):
        raise HostileMetadataError(f"file {path!r} has a malformed block table")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise HostileMetadataError(f"file {path!r} has a malformed block table")
    return BlockDigests(size, algorithm, tuple(hashes))
