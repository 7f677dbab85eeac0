"""Which models to load ahead: the ones used at this time of day on recent days."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence

from modelward.analytics.usage import DAY_S, UsageEvent

HISTORY_DAYS = 30
AHEAD_S = 2 * 3600.0
HALF_LIFE_DAYS = 7.0
"""A use a week ago counts half as much as one today: habits change."""
MIN_USES = 3
"""Fewer uses in the history are no pattern."""


def rank_preload(
    events: Sequence[UsageEvent], now: float, candidates: Collection[str] | None = None
) -> list[str]:
    """Models likely to be used within ``AHEAD_S`` of ``now``, most likely first.

    A model scores each past use whose local time of day falls in the next two hours' time
    of day, weighted by its age (half-life ``HALF_LIFE_DAYS``). ``events`` are the last
    ``HISTORY_DAYS``; a model with fewer than ``MIN_USES`` there, with no use in the window,
    or not among ``candidates`` (when given) is not suggested. Ties go by id."""
    uses: Counter[str] = Counter()
    scores: defaultdict[str, float] = defaultdict(float)
    start = _seconds_into_day(now)
    for event in events:
        at = event.usage.at
        if not now - HISTORY_DAYS * DAY_S <= at < now:
            continue
        uses[event.model_id] += 1
        if (_seconds_into_day(at) - start) % DAY_S < AHEAD_S:
            scores[event.model_id] += 0.5 ** ((now - at) / DAY_S / HALF_LIFE_DAYS)
    eligible = [
        model
        for model, score in scores.items()
        if score > 0 and uses[model] >= MIN_USES and (candidates is None or model in candidates)
    ]
    return sorted(eligible, key=lambda model: (-scores[model], model))


def _seconds_into_day(at: float) -> float:
    local = time.localtime(at)
    return local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec + at % 1
