"""Usage figures over a period: uses, uses per day, success rate, mean time, daily counts and
peak hours. Days and hours are the machine's local time, as people read them."""

from __future__ import annotations

import datetime
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modelward.analytics.usage import TimePeriod, UsageData, UsageEvent

ALL_MODELS = "all"
"""The ``model_id`` of figures taken over every model together."""
DAYS_SHOWN = 30
PEAK_HOURS = 3


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """One calendar day's use."""

    day: datetime.date
    uses: int
    successes: int
    average_generation_time: float | None
    """Mean duration of the day's successful jobs; None when there were none."""


@dataclass(frozen=True, slots=True)
class UsageStatistics:
    """The seed's UsageStatistics of one model (or ``"all"``) over a period."""

    model_id: str
    total_uses: int
    uses_per_day: float
    """Uses over the period's length in days, counted as at least one day (so a busy hour
    does not read as 24 times its rate)."""
    average_generation_time: float
    """Mean duration of the period's successful jobs; 0.0 when none succeeded."""
    success_rate: float
    """Share of the period's jobs that succeeded; 0.0 when there were none."""
    last_30_days_usage: list[DailyUsage]
    """Each calendar day of the 30 ending with the period's last day, oldest first, zeros
    included, whatever the period's length."""
    peak_usage_hours: list[int]
    """Hours of the day with the most uses in the period, most first (ties: earlier hour),
    at most three, only hours with uses."""
    last_used: float | None
    """The newest use before the period's end, even one before its start."""
    period: TimePeriod


def shown_days(period: TimePeriod) -> list[datetime.date]:
    """The 30 calendar days ending with the one the period's last instant falls on."""
    end = datetime.datetime.fromtimestamp(period.end)
    # The period excludes its end: ending at midnight, its last day is the one before.
    last = end.date() if end.time() != datetime.time(0) else end.date() - datetime.timedelta(1)
    return [last - datetime.timedelta(days=n) for n in range(DAYS_SHOWN - 1, -1, -1)]


def shown_days_start(period: TimePeriod) -> float:
    """Epoch seconds of local midnight starting the first shown day."""
    first = shown_days(period)[0]
    return time.mktime((first.year, first.month, first.day, 0, 0, 0, 0, 0, -1))


def summarise(
    model_id: str, period: TimePeriod, events: Sequence[UsageEvent], last_used: float | None
) -> UsageStatistics:
    """Figures of ``events`` (any span: those outside the period count only toward the
    shown days, those outside both are ignored) for ``model_id``."""
    jobs = [e.usage for e in events if period.start <= e.usage.at < period.end]
    successes = [u.duration_s for u in jobs if u.success]
    return UsageStatistics(
        model_id=model_id,
        total_uses=len(jobs),
        uses_per_day=len(jobs) / max(period.days, 1.0),
        average_generation_time=statistics.fmean(successes) if successes else 0.0,
        success_rate=len(successes) / len(jobs) if jobs else 0.0,
        last_30_days_usage=daily_usage(
            (e.usage for e in events if e.usage.at < period.end), shown_days(period)
        ),
        peak_usage_hours=peak_hours(jobs),
        last_used=last_used,
        period=period,
    )


def daily_usage(jobs: Iterable[UsageData], days: list[datetime.date]) -> list[DailyUsage]:
    """One entry per day of ``days``, in their order; jobs on other days are ignored."""
    by_day: dict[datetime.date, list[UsageData]] = {day: [] for day in days}
    for job in jobs:
        bucket = by_day.get(datetime.date.fromtimestamp(job.at))
        if bucket is not None:
            bucket.append(job)
    result = []
    for day in days:
        times = [j.duration_s for j in by_day[day] if j.success]
        result.append(
            DailyUsage(
                day=day,
                uses=len(by_day[day]),
                successes=len(times),
                average_generation_time=statistics.fmean(times) if times else None,
            )
        )
    return result


def peak_hours(jobs: Iterable[UsageData], limit: int = PEAK_HOURS) -> list[int]:
    """Local hours of the day with the most jobs, most first, ties by hour."""
    counts = Counter(time.localtime(job.at).tm_hour for job in jobs)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [hour for hour, _ in ranked[:limit]]
