"""Upper bounds of the numbers a request may carry.

Past them a value is a mistake, answered 422, rather than something handed on to
``timedelta`` (OverflowError past ~10^9 days), SQLite (64-bit integers) or the clock.
"""

from __future__ import annotations

DAY_S = 86_400

MAX_WAIT_S = 30 * DAY_S
"""Longest a job may wait for its model (a queued request's expiry, a job's max_wait_s)."""

MAX_INTERVAL_S = 365 * DAY_S
"""Longest interval between scheduled checks."""

MAX_GENERATION_S = 7 * DAY_S
"""Longest wall time a generation report may give."""

MAX_DAYS = 36_500
"""A century: the most days a retention or "unused" setting may span."""

MAX_BYTES = 10**18
"""1 EB: more than any disk holds, well inside SQLite's 64-bit integers."""

MAX_VRAM_GB = 4096.0
"""More GPU memory than any machine has."""

MAX_PIXELS = 65_536
"""The most pixels along one side of a frame."""

MAX_COUNT = 1_000_000
"""The most frames, steps, places in a queue or kept versions a request may name."""

MAX_NESTING = 8
"""The most levels of lists and objects a free-form field (a job's params) may nest."""


def nesting(value: object) -> int:
    """How many levels of lists and objects ``value`` nests (counted without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest
