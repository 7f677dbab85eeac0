"""Usage statistics against figures worked out by hand."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from modelward.analytics import ModelUsageAnalytics, TimePeriod, UsageData, UsageLog
from modelward.db import Database, sqlite_url
from modelward.errors import ConfigError
from tests.analytics.conftest import NOW, at, job, seed

T2V, I2V = "t2v-a14b", "i2v-a14b"


def _seed_week(db: Database) -> None:
    seed(
        db,
        T2V,
        job(at(6, 20, 10), 50.0),  # before the 7-day period, inside the 30 days shown
        job(at(6, 29, 10, 15), 100.0),
        job(at(6, 29, 10, 45), 200.0),
        job(at(6, 29, 14), 5.0, success=False),
        job(at(6, 30, 9), 80.0),
        job(at(6, 30, 10, 5), 120.0),
        UsageData(duration_s=100.0, success=True, at=at(6, 30, 14, 20), quality_issue=True),
        job(at(6, 30, 19), 999.0),  # after the period's end
    )
    seed(db, I2V, job(at(6, 30, 10), 60.0), job(at(6, 30, 11), 40.0))


async def test_one_models_figures(db: Database, analytics: ModelUsageAnalytics) -> None:
    _seed_week(db)
    stats = await analytics.get_usage_statistics(TimePeriod.last_days(7, T2V, now=NOW))

    assert stats.model_id == T2V
    assert stats.total_uses == 6  # 29th: 3, 30th: 3 before 18:30
    assert stats.uses_per_day == pytest.approx(6 / 7)
    assert stats.success_rate == pytest.approx(5 / 6)
    assert stats.average_generation_time == pytest.approx((100 + 200 + 80 + 120 + 100) / 5)
    assert stats.peak_usage_hours == [10, 14, 9]  # 3 at ten, 2 at two, 1 at nine
    assert stats.last_used == at(6, 30, 14, 20)  # the 19:00 job is after the period

    days = stats.last_30_days_usage
    assert len(days) == 30
    assert days[0].day == datetime.date(2025, 6, 1) and days[-1].day == datetime.date(2025, 6, 30)
    by_day = {d.day.day: d for d in days}
    assert (by_day[29].uses, by_day[29].successes) == (3, 2)
    assert by_day[29].average_generation_time == pytest.approx(150.0)
    assert (by_day[30].uses, by_day[30].successes) == (3, 3)
    assert by_day[30].average_generation_time == pytest.approx(100.0)
    assert by_day[20].uses == 1  # shown although before the period
    zero = [d for d in days if d.day.day not in (20, 29, 30)]
    assert len(zero) == 27
    assert all(d.uses == 0 and d.average_generation_time is None for d in zero)


async def test_all_models_together(db: Database, analytics: ModelUsageAnalytics) -> None:
    _seed_week(db)
    stats = await analytics.get_usage_statistics(TimePeriod.last_days(7, now=NOW))
    assert stats.model_id == "all"
    assert stats.total_uses == 8
    assert stats.success_rate == pytest.approx(7 / 8)
    assert stats.average_generation_time == pytest.approx(700 / 7)
    assert stats.peak_usage_hours == [10, 14, 9]  # ten: 4, two: 2, then nine and eleven tie
    assert stats.last_30_days_usage[-1].uses == 5


async def test_by_model_most_used_first(db: Database, analytics: ModelUsageAnalytics) -> None:
    _seed_week(db)
    seed(db, "ti2v-5b", job(at(6, 1, 8)))  # used, but not in the last week
    stats = await analytics.statistics_by_model(TimePeriod.last_days(7, now=NOW))
    assert [(s.model_id, s.total_uses) for s in stats] == [(T2V, 6), (I2V, 2)]
    assert stats[1].period.model_id == I2V and stats[1].uses_per_day == pytest.approx(2 / 7)


async def test_no_use_is_zero_not_perfect(analytics: ModelUsageAnalytics) -> None:
    stats = await analytics.get_usage_statistics(TimePeriod.last_days(30, T2V, now=NOW))
    assert (stats.total_uses, stats.uses_per_day, stats.success_rate) == (0, 0.0, 0.0)
    assert stats.average_generation_time == 0.0 and stats.peak_usage_hours == []
    assert stats.last_used is None
    assert len(stats.last_30_days_usage) == 30
    assert all(d.uses == 0 for d in stats.last_30_days_usage)


async def test_a_short_period_counts_as_a_day(db: Database, analytics: ModelUsageAnalytics) -> None:
    seed(db, T2V, *(job(at(6, 30, h, 10)) for h in (8, 8, 9, 10)), job(at(6, 30, 11, 10)))
    period = TimePeriod(start=at(6, 30, 8), end=at(6, 30, 11))  # three hours, four uses
    stats = await analytics.get_usage_statistics(period)
    assert stats.total_uses == 4 and stats.uses_per_day == 4.0
    assert stats.peak_usage_hours == [8, 9, 10]
    assert stats.last_used == at(6, 30, 10, 10)


async def test_peak_hours_are_at_most_three_ties_by_hour(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    seed(db, T2V, *(job(at(6, 29, h)) for h in (23, 7, 12, 3, 12)))
    stats = await analytics.get_usage_statistics(TimePeriod.last_days(3, now=NOW))
    assert stats.peak_usage_hours == [12, 3, 7]


async def test_a_period_ending_at_midnight_ends_the_day_before(
    analytics: ModelUsageAnalytics,
) -> None:
    stats = await analytics.get_usage_statistics(TimePeriod(start=at(6, 1, 0), end=at(7, 1, 0)))
    assert stats.last_30_days_usage[-1].day == datetime.date(2025, 6, 30)
    assert stats.last_30_days_usage[0].day == datetime.date(2025, 6, 1)


async def test_usage_survives_a_new_database_object(db_path: Path, db: Database) -> None:
    first = ModelUsageAnalytics(db, list)
    await first.track_model_usage(
        T2V,
        UsageData(
            duration_s=42.0,
            success=False,
            at=at(6, 30, 9),
            requested_model=I2V,
            commit="c" * 40,
            concurrent_loaded=2,
            error="x" * 900,
        ),
    )
    db.close()

    again = Database(sqlite_url(db_path))
    try:
        [event] = UsageLog(again).events(at(6, 1, 0), NOW)
        stats = await ModelUsageAnalytics(again, list).get_usage_statistics(
            TimePeriod.last_days(1, now=NOW)
        )
    finally:
        again.close()
    assert event.model_id == T2V and event.usage.requested_model == I2V
    assert event.usage.commit == "c" * 40 and event.usage.concurrent_loaded == 2
    assert event.usage.error == "x" * 500 and event.usage.success is False
    assert stats.total_uses == 1 and stats.success_rate == 0.0


def test_bad_periods_and_jobs_are_refused() -> None:
    with pytest.raises(ConfigError):
        TimePeriod(start=NOW, end=NOW)
    with pytest.raises(ConfigError):
        TimePeriod.last_days(0)
    with pytest.raises(ConfigError):
        UsageData(duration_s=-1.0, success=True)
    with pytest.raises(ConfigError):
        UsageData(duration_s=1.0, success=True, concurrent_loaded=0)
    assert TimePeriod.last_days(2, now=NOW).days == 2.0
