"""Checksums: the ones the Hub publishes (sha256 for LFS files, the git blob id for the
rest), and the per-block digests modelward records to find damage later."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import xxhash

from modelward.sources.files import RemoteFile

READ_CHUNK_BYTES = 8 * 1024 * 1024
BLOCK_BYTES = 16 * 1024 * 1024
"""Block size of the block tables recorded for every verified blob (for block repair)."""
BLOCK_ALGORITHM = "xxh3_128"
"""Digest of new block tables. Blocks locate accidental damage (bit rot, torn writes)
and whatever is repaired is promoted only after the whole-file sha256 matches, so a
128-bit non-cryptographic digest at ~25 GB/s serves, where a second sha256 pass would
cost as much CPU as the verification itself."""


class _Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


_BLOCK_DIGESTS: dict[str, Callable[[], _Digest]] = {
    "xxh3_128": xxhash.xxh3_128,
    "sha256": hashlib.sha256,  # block tables written before xxh3_128
}


def block_digest(algorithm: str, data: bytes | memoryview) -> str:
    """The digest of one block, as a block table of ``algorithm`` records it."""
    digest = _BLOCK_DIGESTS[algorithm]()
    digest.update(data)
    return digest.hexdigest()


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
    """The digest of each ``BLOCK_BYTES`` block of a file fed in order, for its block table."""

    def __init__(self, algorithm: str = BLOCK_ALGORITHM) -> None:
        self.algorithm = algorithm
        self._new = _BLOCK_DIGESTS[algorithm]
        self._block = self._new()
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
                self._block = self._new()
                self._fill = 0

    def hexdigests(self) -> list[str]:
        """One digest per block, the last block possibly short (call after the last byte)."""
        return [*self._hashes, self._block.hexdigest()] if self._fill else list(self._hashes)


def differing_blocks(
    expected: tuple[str, ...], digests: list[str], block_bytes: int, size: int
) -> list[tuple[int, int]]:
    """The byte ranges of the blocks whose digest is not the expected one."""
    bad = []
    for index, digest in enumerate(expected):
        if index >= len(digests) or digests[index] != digest:
            start = index * block_bytes
            bad.append((start, min(start + block_bytes, size)))
    return bad


def hash_prefix(
    path: Path,
    hasher: ContentHasher,
    length: int,
    blocks: BlockHasher | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Feed the first ``length`` bytes of ``path`` to ``hasher`` (and ``blocks``, when given,
    in the same pass; ``on_chunk`` hears of each chunk's size; blocking, run in a thread)."""
    remaining = length
    with path.open("rb") as fh:
        while remaining > 0:
            chunk = fh.read(min(READ_CHUNK_BYTES, remaining))
            if not chunk:
                break
            hasher.update(chunk)
            if blocks is not None:
                blocks.update(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
            remaining -= len(chunk)


def file_matches(
    path: Path,
    file: RemoteFile,
    blocks: BlockHasher | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> bool:
    """True when the file at ``path`` has the size and checksum of ``file`` (blocking);
    ``blocks`` is fed the same bytes, for a block table; ``on_chunk`` hears of progress."""
    try:
        if path.stat().st_size != file.size_bytes:
            return False
    except OSError:
        return False
    hasher = ContentHasher(file)
    hash_prefix(path, hasher, file.size_bytes, blocks, on_chunk)
    return hasher.matches()
