"""Byte counts and rates as people write them (``50MB``, ``20MB/s``, ``2.2GB``).

The benchmark driver does not import modelward (its package may be mid-change while the
benchmark runs a stable copy), so this is a small parser of its own.
"""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:/s)?\s*$")


def parse_bytes(text: str) -> int:
    """``"50MB"`` or ``"50MB/s"`` → 50_000_000; raises ValueError on anything else."""
    match = _RE.match(text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size or rate: {text!r} (try 50MB, 20MB/s, 2GiB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def mb(n: float) -> str:
    """Bytes as decimal megabytes, e.g. ``"52.4 MB"``."""
    return f"{n / 1e6:,.1f} MB"
