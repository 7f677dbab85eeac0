"""The usage report: per-model figures, totals, findings and preload together."""

from __future__ import annotations

from modelward.analytics import ModelUsageAnalytics
from modelward.db import Database
from tests.analytics.conftest import NOW, at, job, seed


async def test_report_of_the_last_week(db: Database, analytics: ModelUsageAnalytics) -> None:
    seed(db, "i2v-a14b", *(job(at(6, d, 10), 100.0) for d in (24, 25, 26)))
    seed(db, "i2v-a14b", *(job(at(6, d, 10), 200.0, loaded=2) for d in (27, 28, 29)))
    seed(db, "t2v-a14b", *(job(at(6, d, 19)) for d in (27, 28, 29)))
    seed(db, "ti2v-5b", job(at(6, 1, 12)))  # used, but before the week

    report = await analytics.generate_usage_report(days=7, now=NOW)

    assert report.generated_at == NOW and report.period.end == NOW
    assert report.period.start == NOW - 7 * 86_400
    assert report.total_uses == 9
    assert [(s.model_id, s.total_uses) for s in report.models] == [
        ("i2v-a14b", 6),
        ("t2v-a14b", 3),
        ("ti2v-5b", 0),  # the catalog's unused model, listed for cleanup decisions
    ]
    assert report.models[2].last_used == at(6, 1, 12)
    assert report.peak_usage_hours == [10, 19]
    assert [(f.model_id, f.kind, f.slowdown) for f in report.findings] == [
        ("i2v-a14b", "concurrent-load", 2.0)
    ]
    assert report.preload == ["t2v-a14b"]


async def test_report_with_no_use(analytics: ModelUsageAnalytics) -> None:
    report = await analytics.generate_usage_report(now=NOW)
    assert report.total_uses == 0 and report.peak_usage_hours == []
    assert [s.model_id for s in report.models] == ["i2v-a14b", "t2v-a14b", "ti2v-5b"]
    assert report.findings == [] and report.preload == []
    assert report.period.days == 30
