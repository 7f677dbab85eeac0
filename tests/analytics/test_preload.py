"""Preload suggestions: models used at this time of day on recent days."""

from __future__ import annotations

from modelward.analytics import ModelUsageAnalytics
from modelward.db import Database
from tests.analytics.conftest import NOW, at, job, seed

# NOW is 18:30 on 30 June: the window is 18:30-20:30 of each earlier day.


async def test_recent_habits_first_ties_by_id(db: Database, analytics: ModelUsageAnalytics) -> None:
    # Three uses in the window yesterday and the day before, for two models alike.
    for model in ("t2v-a14b", "i2v-a14b"):
        seed(db, model, job(at(6, 28, 19)), job(at(6, 29, 19)), job(at(6, 29, 20, 29)))
    # More uses in the window, but three weeks ago: worth less than the recent ones.
    seed(db, "ti2v-5b", *(job(at(6, d, 19, 30)) for d in (3, 4, 5, 6, 7)))
    assert await analytics.suggest_preload_models(now=NOW) == ["i2v-a14b", "t2v-a14b", "ti2v-5b"]


async def test_outside_the_window_too_few_or_unknown_models_are_not_suggested(
    db: Database, analytics: ModelUsageAnalytics
) -> None:
    # Just outside the two hours ahead: 18:29 has passed, 20:31 is too far.
    seed(db, "t2v-a14b", *(job(at(6, d, h, m)) for d in (27, 28) for h, m in ((18, 29), (20, 31))))
    seed(db, "i2v-a14b", job(at(6, 28, 19)), job(at(6, 29, 19)))  # two uses only
    seed(db, "retired-model", *(job(at(6, d, 19)) for d in (27, 28, 29)))  # not in the catalog
    seed(db, "ti2v-5b", *(job(at(5, d, 19)) for d in (1, 2, 3)))  # older than 30 days
    assert await analytics.suggest_preload_models(now=NOW) == []


async def test_a_window_across_midnight(db: Database, analytics: ModelUsageAnalytics) -> None:
    late = at(6, 30, 23, 30)
    seed(db, "t2v-a14b", job(at(6, 27, 0, 15)), job(at(6, 28, 1, 0)), job(at(6, 29, 23, 45)))
    assert await analytics.suggest_preload_models(now=late) == ["t2v-a14b"]
