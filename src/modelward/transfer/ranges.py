"""Byte ranges of a file: which are on disk, and the segments still to fetch (pure data)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Segment:
    """Bytes ``[start, end)`` of one file, fetched over one connection."""

    start: int
    end: int

    @property
    def size(self) -> int:
        """Bytes in the segment."""
        return self.end - self.start


class RangeSet:
    """A set of disjoint, sorted ``[start, end)`` byte ranges, merged as they grow."""

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._ranges: list[tuple[int, int]] = []
        for start, end in ranges:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` as present."""
        if end <= start:
            return
        merged: list[tuple[int, int]] = []
        for s, e in self._ranges:
            if e < start or s > end:
                merged.append((s, e))
            else:
                start, end = min(s, start), max(e, end)
        merged.append((start, end))
        self._ranges = sorted(merged)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._ranges)

    def to_list(self) -> list[list[int]]:
        """JSON-able form."""
        return [[s, e] for s, e in self._ranges]

    @property
    def total(self) -> int:
        """Bytes covered."""
        return sum(e - s for s, e in self._ranges)

    @property
    def prefix_end(self) -> int:
        """End of the range that starts at byte 0 (0 when byte 0 is missing)."""
        return self._ranges[0][1] if self._ranges and self._ranges[0][0] == 0 else 0

    def gaps(self, size: int) -> list[Segment]:
        """The missing parts of ``[0, size)``."""
        gaps: list[Segment] = []
        cursor = 0
        for s, e in self._ranges:
            if s > cursor:
                gaps.append(Segment(cursor, min(s, size)))
            cursor = max(cursor, e)
        if cursor < size:
            gaps.append(Segment(cursor, size))
        return [g for g in gaps if g.size > 0]


def plan_segments(size: int, present: RangeSet, segment_bytes: int) -> list[Segment]:
    """Split what is missing of a ``size``-byte file into segments of at most ``segment_bytes``.

    Segments are ordered from the start of the file so the hashed prefix grows early.
    """
    planned: list[Segment] = []
    for gap in present.gaps(size):
        start = gap.start
        while start < gap.end:
            end = min(gap.end, start + segment_bytes)
            planned.append(Segment(start, end))
            start = end
    if size == 0:
        planned.append(Segment(0, 0))
    return planned
