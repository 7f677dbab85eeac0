"""Performance findings: each kind from seeded jobs, and none below the thresholds."""

from __future__ import annotations

import pytest

from modelward.actions import Action
from modelward.analytics import ModelUsageAnalytics, TimePeriod
from modelward.db import Database
from tests.analytics.conftest import NOW, at, job, seed

T2V, I2V = "t2v-a14b", "i2v-a14b"
OLD, NEW = "a" * 40, "b" * 40
MONTH = TimePeriod.last_days(30, now=NOW)


async def test_slower_while_another_model_is_loaded(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    # Same hour each day, so only the load differs.
    seed(db, T2V, *(job(at(6, d, 10), 100.0) for d in (1, 2, 3, 4)))
    seed(db, T2V, *(job(at(6, d, 10), s, loaded=2) for d, s in ((5, 170), (6, 180), (7, 190))))
    seed(db, T2V, job(at(6, 8, 10), 5.0, loaded=3, success=False))  # failures are not timed
    [finding] = await analytics.find_performance_correlations(MONTH)
    assert finding.kind == "concurrent-load" and finding.model_id == T2V
    assert finding.slowdown == pytest.approx(1.8) and finding.samples == 3
    assert "1.8x as long while another model is loaded (3 jobs)" in finding.message
    assert "one at a time" in finding.suggestion


async def test_no_concurrent_load_finding_from_two_jobs_or_a_small_slowdown(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    seed(db, T2V, *(job(at(6, d, 10), 100.0) for d in (1, 2, 3, 4)))
    seed(db, T2V, *(job(at(6, d, 10), 300.0, loaded=2) for d in (5, 6)))  # only two
    seed(db, I2V, *(job(at(6, d, 10), 100.0) for d in (1, 2, 3)))
    seed(db, I2V, *(job(at(6, d, 10), 125.0, loaded=2) for d in (4, 5, 6)))  # 1.25x
    assert await analytics.find_performance_correlations(MONTH) == []


async def test_slower_since_the_last_update(db: Database, analytics: ModelUsageAnalytics) -> None:
    seed(db, T2V, *(job(at(6, d, 10), 100.0, commit=OLD) for d in (1, 2, 3, 4)))
    seed(db, T2V, *(job(at(6, d, 10), 150.0, commit=NEW) for d in (5, 6, 7)))
    [finding] = await analytics.find_performance_correlations(MONTH)
    assert finding.kind == "after-update" and finding.slowdown == pytest.approx(1.5)
    assert finding.samples == 3
    assert "since the update to bbbbbbbb (3 jobs, against 4 on aaaaaaaa)" in finding.message
    assert "roll back to the previous one" in finding.suggestion
    assert finding.action is Action.ROLLBACK and finding.model_id == T2V


async def test_update_compares_only_the_newest_two_versions(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    oldest = "0" * 40
    seed(db, T2V, *(job(at(6, d, 10), 50.0, commit=oldest) for d in (1, 2, 3)))
    seed(db, T2V, *(job(at(6, d, 10), 100.0, commit=OLD) for d in (4, 5, 6)))
    seed(db, T2V, *(job(at(6, d, 10), 120.0, commit=NEW) for d in (7, 8, 9)))  # 1.2x OLD
    assert await analytics.find_performance_correlations(MONTH) == []
    # Two jobs on the newest commit are too few, even much slower ones.
    seed(db, I2V, *(job(at(6, d, 10), 100.0, commit=OLD) for d in (1, 2, 3)))
    seed(db, I2V, *(job(at(6, d, 10), 400.0, commit=NEW) for d in (4, 5)))
    assert await analytics.find_performance_correlations(MONTH) == []


async def test_slower_at_one_hour_of_the_day(db: Database, analytics: ModelUsageAnalytics) -> None:
    seed(db, T2V, *(job(at(6, d, 14, 20), 200.0) for d in (1, 2, 3)))
    seed(db, T2V, *(job(at(6, d, h), 100.0) for d in (1, 2) for h in (9, 11, 16)))
    [finding] = await analytics.find_performance_correlations(MONTH)
    assert finding.kind == "hour-of-day" and finding.slowdown == pytest.approx(2.0)
    assert finding.samples == 3
    assert "between 14:00 and 15:00 take 2.0x as long as at other hours (3 jobs)" in (
        finding.message
    )
    assert "Something else loads the machine between 14:00 and 15:00" in finding.suggestion


async def test_no_hour_finding_from_two_jobs(db: Database, analytics: ModelUsageAnalytics) -> None:
    seed(db, T2V, *(job(at(6, d, 14), 400.0) for d in (1, 2)))
    seed(db, T2V, *(job(at(6, d, h), 100.0) for d in (1, 2) for h in (9, 11, 16)))
    assert await analytics.find_performance_correlations(MONTH) == []


async def test_findings_largest_slowdown_first_and_within_the_period(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    seed(db, T2V, *(job(at(6, d, 10), 100.0, commit=OLD) for d in (10, 11, 12)))
    seed(db, T2V, *(job(at(6, d, 10), 140.0, commit=NEW) for d in (13, 14, 15)))
    seed(db, I2V, *(job(at(6, d, 10), 100.0) for d in (10, 11, 12)))
    seed(db, I2V, *(job(at(6, d, 10), 250.0, loaded=2) for d in (13, 14, 15)))
    found = await analytics.find_performance_correlations(MONTH)
    assert [(f.model_id, f.kind, f.slowdown) for f in found] == [
        (I2V, "concurrent-load", 2.5),
        (T2V, "after-update", 1.4),
    ]
    only_t2v = TimePeriod.last_days(30, T2V, now=NOW)
    assert [f.model_id for f in await analytics.find_performance_correlations(only_t2v)] == [T2V]
    before = TimePeriod(start=at(6, 1, 0), end=at(6, 13, 0))
    assert await analytics.find_performance_correlations(before) == []
