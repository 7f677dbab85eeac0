"""Byte counts written the way people write them: ``8MB``, ``2GiB``, ``tiny``."""

from __future__ import annotations

from modelward import units
from modelward.errors import ConfigError

# Named scales: total bytes per repo. "tiny" keeps the biggest shard above 1 MiB so that
# mid-file crashes can be tested; "full" is about the size of the real Wan2.2 repos.
NAMED_SCALES: dict[str, int] = {
    "tiny": 6_000_000,
    "small": 64_000_000,
    "medium": 1_000_000_000,
    "large": 16_000_000_000,
    "full": 126_000_000_000,
}

_HINT = f"Give a size such as 8MB or 2GiB, or one of {', '.join(NAMED_SCALES)}."


def parse_size(value: int | str) -> int:
    """Bytes from an int (a byte count), a named scale or a size with its unit (``"2GB"``);
    a number written without a unit is refused, as everywhere else (units.parse_size)."""
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"size must not be negative: {value}", hint=_HINT)
        return value
    named = NAMED_SCALES.get(value.strip().lower())
    if named is not None:
        return named
    try:
        return units.parse_size(value)
    except ConfigError as exc:
        raise ConfigError(exc.message, hint=_HINT) from None
