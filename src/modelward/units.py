"""Sizes and rates as people write and read them; the one place units are parsed or shown.

The convention everywhere (CLI, API, dashboard, logs): values travel as integer bytes and
bytes per second, and are shown in decimal units (kB, MB, GB, TB; MB/s) as huggingface_hub
and Ollama show them. Binary units (KiB, MiB, GiB, TiB) are understood when written out.
A number without a unit is refused (except 0), because ``limit 20`` could mean anything.
"""

from __future__ import annotations

import re

from modelward.errors import ConfigError

KB = 10**3
MB = 10**6
GB = 10**9
TB = 10**12

_BYTE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": KB,
    "mb": MB,
    "gb": GB,
    "tb": TB,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
# Network people write rates in bits; a byte is 8 of them.
_BIT_UNITS: dict[str, float] = {
    "bit": 1 / 8,
    "kbit": KB / 8,
    "mbit": MB / 8,
    "gbit": GB / 8,
    "tbit": TB / 8,
    "kbps": KB / 8,
    "mbps": MB / 8,
    "gbps": GB / 8,
    "tbps": TB / 8,
}
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*(/\s*s)?\s*$", re.IGNORECASE)
_UNLIMITED = frozenset({"0", "none", "off", "unlimited"})
# "Mb/s" is megabits to a network engineer and megabytes to most others: ask which.
_AMBIGUOUS = re.compile(r"^[KMGT]b$")

SIZE_FORMS = "40GB, 500MB, 1.5TB or 20GiB"
RATE_FORMS = "20MB/s, 160Mbit/s or 1.5GiB/s (0 = unlimited)"
MAX_RATE_BYTES_PER_S = TB
"""The highest cap accepted: far above any link, so a larger figure is a typing slip."""


def parse_size(text: str) -> int:
    """Bytes from ``40GB``, ``500MB``, ``1.5TiB`` or ``0``; a bare number is refused."""
    number, unit, per_second = _split(text, "size", SIZE_FORMS)
    if number == 0 and not unit:
        return 0
    if per_second or unit.lower() not in _BYTE_UNITS:
        raise _refused(text, "size", SIZE_FORMS)
    return round(number * _BYTE_UNITS[unit.lower()])


def parse_rate(text: str) -> int:
    """Bytes per second from ``20MB/s``, ``160Mbit/s``, ``1.5GiB/s`` or ``0`` (unlimited).

    ``20MB`` is read as ``20MB/s``; a bare number other than 0 is refused.
    """
    if text.strip().lower() in _UNLIMITED:
        return 0
    number, unit, _ = _split(text, "rate", RATE_FORMS)
    if number == 0 and not unit:  # "0.0" is "0"
        return 0
    if _AMBIGUOUS.match(unit):
        raise ConfigError(
            f"{text.strip()!r} could be bits or bytes",
            hint=f"Write {unit[0]}B/s for bytes or {unit[0]}bit/s for bits, e.g. {RATE_FORMS}.",
        )
    key = unit[:-2].lower() if unit.endswith("Bps") else unit.lower()  # MBps is MB/s
    scale = _BYTE_UNITS.get(key) or _BIT_UNITS.get(key)
    if scale is None:
        raise _refused(text, "rate", RATE_FORMS)
    rate = round(number * scale)
    if number and not rate:  # 0.1B/s must not turn into "unlimited"
        raise _refused(text, "rate", RATE_FORMS)
    return check_rate(rate, text.strip())


def check_rate(rate_bytes_per_s: int, shown: str | None = None) -> int:
    """``rate_bytes_per_s`` when it is a cap we accept (0 to 1 TB/s), else ConfigError."""
    if 0 <= rate_bytes_per_s <= MAX_RATE_BYTES_PER_S:
        return rate_bytes_per_s
    what = shown or f"{rate_bytes_per_s} bytes/s"
    raise ConfigError(
        f"bandwidth limit {what} is outside 0 to {format_rate(MAX_RATE_BYTES_PER_S)}",
        hint=f"Give a rate such as {RATE_FORMS}.",
    )


def format_size(size_bytes: int | float) -> str:
    """``1.23 GB``, ``456.8 MB``, ``12 kB``, ``0 B``: decimal units, three significant digits."""
    value = float(size_bytes)
    for unit, scale in (("TB", TB), ("GB", GB), ("MB", MB), ("kB", KB)):
        # 999,999 bytes read "1.00 MB", not "1,000 kB": compare with what rounds up to 1.00.
        if abs(value) >= scale * 0.9995:
            return f"{_three_digits(value / scale)} {unit}"
    return f"{value:.0f} B"


def format_rate(rate_bytes_per_s: int | float) -> str:
    """``20.0 MB/s``; 0 or less is ``unlimited`` (a cap) and reads the same everywhere."""
    if rate_bytes_per_s <= 0:
        return "unlimited"
    return f"{format_size(rate_bytes_per_s)}/s"


def format_speed(rate_bytes_per_s: int | float) -> str:
    """A measured speed: like :func:`format_rate`, but nothing moving is ``0 B/s``."""
    if rate_bytes_per_s <= 0:
        return "0 B/s"
    return f"{format_size(rate_bytes_per_s)}/s"


def _three_digits(value: float) -> str:
    if abs(value) >= 99.95:
        return f"{value:,.0f}"
    if abs(value) >= 9.995:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _split(text: str, kind: str, forms: str) -> tuple[float, str, bool]:
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise _refused(text, kind, forms)
    number = float(match.group(1))
    unit = match.group(2)
    if not unit and number != 0:
        raise ConfigError(
            f"{text.strip()!r} has no unit",
            hint=f"Write the unit, e.g. {forms}; a number alone is not accepted.",
        )
    return number, unit, match.group(3) is not None


def _refused(text: str, kind: str, forms: str) -> ConfigError:
    return ConfigError(f"not a {kind}: {text!r}", hint=f"Give a {kind} such as {forms}.")
