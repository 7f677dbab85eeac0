"""Rates and sizes written the way people write them: ``20MB/s``, ``50MiB``, ``0``, ``40GB``."""

from __future__ import annotations

import re

from modelward.errors import ConfigError
from modelward.transfer.progress import MB as MIB

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "tib": 2**40,
}
_RATE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:/s)?$")
_UNLIMITED = frozenset({"0", "none", "off", "unlimited"})


def parse_rate(text: str) -> int:
    """Bytes per second from ``20MB/s``, ``20MiB``, ``500k`` or ``0`` (= unlimited).

    MB, GB are powers of 1000; MiB, GiB powers of 1024. Bits (``Mbps``) are refused
    rather than guessed.
    """
    value = text.strip().lower()
    if value in _UNLIMITED:
        return 0
    match = _RATE_RE.match(value)
    if match is None or match.group(2) not in _UNITS:
        raise ConfigError(
            f"not a transfer rate: {text!r}",
            hint="Give a rate such as 20MB/s, 50MiB/s or 500k, or 0 for unlimited.",
        )
    return round(float(match.group(1)) * _UNITS[match.group(2)])


def parse_size(text: str) -> int:
    """Bytes from ``40GB``, ``1.5TiB`` or ``500M`` (MB, GB: powers of 1000)."""
    match = _RATE_RE.match(text.strip().lower())
    if match is None or match.group(2) not in _UNITS or text.strip().endswith("/s"):
        raise ConfigError(
            f"not a size: {text!r}", hint="Give a size such as 40GB, 500MiB or 1.5TB."
        )
    return round(float(match.group(1)) * _UNITS[match.group(2)])


def format_rate(limit_mbps: float) -> str:
    """A cap in MiB/s as people read it: ``20.0 MB/s (19.07 MiB/s)`` or ``unlimited``."""
    if limit_mbps <= 0:
        return "unlimited"
    return f"{limit_mbps * MIB / 10**6:,.1f} MB/s ({limit_mbps:,.2f} MiB/s)"
