"""HTTP byte ranges: one ``Range: bytes=...`` spec resolved against a size, and If-Range."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


class UnsatisfiableError(Exception):
    """The range lies outside the representation (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range ``[start, end]``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.end - self.start + 1


def resolve_range(header: str | None, size: int) -> ByteRange | None:
    """The range a ``Range`` header asks for; None means send the whole body.

    Multi-range and malformed headers are ignored (whole body), as RFC 9110 allows.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableError(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise UnsatisfiableError(header)
    return ByteRange(start, end)


def if_range_holds(if_range: str | None, etag: str) -> bool:
    """Whether a Range may be honoured given ``If-Range`` and the quoted ``etag``."""
    if if_range is None:
        return True
    return if_range.strip().removeprefix("W/") == etag
