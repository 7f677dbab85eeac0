"""Checksums the Hub publishes: sha256 for LFS files, the git blob id for the rest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelward.sources.files import RemoteFile

READ_CHUNK_BYTES = 8 * 1024 * 1024
BLOCK_BYTES = 16 * 1024 * 1024
"""Block size of the block tables recorded for every verified blob (for block repair)."""


class ContentHasher:
    """Incremental hash of a file's content, in the form its source publishes."""

    def __init__(self, file: RemoteFile) -> None:
        self._file = file
        self._hash: hashlib._Hash
        if file.sha256 is not None:
            self._hash = hashlib.sha256()
        else:
            # A git blob id hashes a header with the size before the content.
            self._hash = hashlib.sha1(usedforsecurity=False)
            self._hash.update(f"blob {file.size_bytes}\0".encode())
        self.bytes_hashed = 0

    def update(self, data: bytes | memoryview) -> None:
        """Feed the next bytes of the content."""
        self._hash.update(data)
        self.bytes_hashed += len(data)

    def hexdigest(self) -> str:
        """The checksum of everything fed so far."""
        return self._hash.hexdigest()

    def matches(self) -> bool:
        """True when exactly the expected size was fed and the checksum is the published one."""
        return (
            self.bytes_hashed == self._file.size_bytes and self.hexdigest() == self._file.blob_name
        )


class BlockHasher:
    """sha256 of each ``BLOCK_BYTES`` block of a file fed in order, for its block table."""

    def __init__(self) -> None:
        self._block = hashlib.sha256()
        self._fill = 0
        self._hashes: list[str] = []

    def update(self, data: bytes | memoryview) -> None:
        """Feed the next bytes of the file."""
        view = memoryview(data)
        while view:
            take = min(len(view), BLOCK_BYTES - self._fill)
            self._block.update(view[:take])
            self._fill += take
            view = view[take:]
            if self._fill == BLOCK_BYTES:
                self._hashes.append(self._block.hexdigest())
                self._block = hashlib.sha256()
                self._fill = 0

    def hexdigests(self) -> list[str]:
        """One sha256 per block, the last block possibly short (call after the last byte)."""
        return [*self._hashes, self._block.hexdigest()] if self._fill else list(self._hashes)


def hash_prefix(path: Path, hasher: ContentHasher, length: int) -> None:
    """Feed the first ``length`` bytes of ``path`` to ``hasher`` (blocking; run in a thread)."""
    remaining = length
    with path.open("rb") as fh:
        while remaining > 0:
            chunk = fh.read(min(READ_CHUNK_BYTES, remaining))
            if not chunk:
                break
            hasher.update(chunk)
            remaining -= len(chunk)


def file_matches(path: Path, file: RemoteFile) -> bool:
    """True when the file at ``path`` has the size and checksum of ``file`` (blocking)."""
    try:
        if path.stat().st_size != file.size_bytes:
            return False
    except OSError:
        return False
    hasher = ContentHasher(file)
    hash_prefix(path, hasher, file.size_bytes)
    return hasher.matches()
