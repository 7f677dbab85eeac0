"""Deterministic pseudo-random bytes, fast enough to write GB-sized weights.

``random.randbytes`` alone runs at about 450 MB/s here, slower than sha256, so every
1 MiB block is a window into a small pool of random pages, picked and stamped by a hash of
(file key, block index). Each block is therefore unique and high-entropy, and producing one
costs a slice copy.
"""

from __future__ import annotations

import functools
import hashlib
import random

BLOCK_BYTES = 1 << 20
_PAGE_BYTES = 2 * BLOCK_BYTES
_POOL_PAGES = 8
_STAMP_BYTES = 32


@functools.lru_cache(maxsize=4)
def _page_pool(seed: int) -> tuple[bytes, ...]:
    rng = random.Random(seed)
    return tuple(rng.randbytes(_PAGE_BYTES) for _ in range(_POOL_PAGES))


class ByteSynth:
    """Produces the bytes of one synthetic file, block by block, from a seed and a key."""

    def __init__(self, seed: int, key: str) -> None:
        self._pages = _page_pool(seed)
        self._key = hashlib.sha256(f"{seed}:{key}".encode()).digest()

    def block(self, index: int) -> bytes:
        """Return block ``index`` (always BLOCK_BYTES long)."""
        stamp = hashlib.sha256(self._key + index.to_bytes(8, "little")).digest()
        page = self._pages[stamp[0] % _POOL_PAGES]
        start = int.from_bytes(stamp[1:4], "little") % (_PAGE_BYTES - BLOCK_BYTES)
        return stamp + page[start + _STAMP_BYTES : start + BLOCK_BYTES]

    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes of the stream starting at ``offset``."""
        parts: list[bytes] = []
        end = offset + length
        while offset < end:
            index, skip = divmod(offset, BLOCK_BYTES)
            take = min(BLOCK_BYTES - skip, end - offset)
            parts.append(self.block(index)[skip : skip + take])
            offset += take
        return b"".join(parts)
