"""Analytics over a real SQLite file, with jobs at chosen local times."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.analytics import ModelUsageAnalytics, UsageData, UsageLog
from modelward.db import Database, sqlite_url

CATALOG = ["i2v-a14b", "t2v-a14b", "ti2v-5b"]


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of a local time in June 2025 (or ``month``): no DST change in June."""
    return time.mktime((2025, month, day, hour, minute, 0, 0, 0, -1))


NOW = at(6, 30, 18, 30)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database file lives."""
    return tmp_path / "home" / "modelward.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A database on a real SQLite file."""
    database = Database(sqlite_url(db_path))
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def analytics(db: Database) -> ModelUsageAnalytics:
    """Analytics over ``db`` with a three-model catalog."""
    return ModelUsageAnalytics(db, lambda: list(CATALOG))


def seed(db: Database, model_id: str, *jobs: UsageData) -> None:
    """Record jobs directly (blocking), as the bridge would have."""
    log = UsageLog(db)
    for job in jobs:
        log.add(model_id, job)


def job(
    when: float,
    seconds: float = 100.0,
    *,
    success: bool = True,
    loaded: int = 1,
    commit: str | None = None,
) -> UsageData:
    """A job at ``when`` taking ``seconds``."""
    return UsageData(
        duration_s=seconds, success=success, at=when, concurrent_loaded=loaded, commit=commit
    )
