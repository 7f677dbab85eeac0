"""Byte counts written the way people write them: ``8MB``, ``2GiB``, ``tiny``."""

from __future__ import annotations

import re

# Named scales: total bytes per repo. "tiny" keeps the biggest shard above 1 MiB so that
# mid-file crashes can be tested; "full" is about the size of the real Wan2.2 repos.
NAMED_SCALES: dict[str, int] = {
    "tiny": 6_000_000,
    "small": 64_000_000,
    "medium": 1_000_000_000,
    "large": 16_000_000_000,
    "full": 126_000_000_000,
}

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str) -> int:
    """Return a byte count from an int, a named scale or a string such as ``"2GB"``."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative: {value}")
        return value
    named = NAMED_SCALES.get(value.strip().lower())
    if named is not None:
        return named
    match = _SIZE_RE.match(value)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {value!r} (try 8MB, 2GiB or one of {sorted(NAMED_SCALES)})")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
