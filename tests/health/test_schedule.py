"""Scheduled checks: quiet hours once usage is known, the check at start and automation."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.events import Event, EventType
from modelward.health import UsagePattern, VerifyLevel, next_check_at
from modelward.runtime import Runtime
from modelward.transfer import DownloadStatus
from tests.conftest import TI2V, make_settings

DAY = 24 * 3600.0


def _local(hour: int, minute: int = 0) -> float:
    """Today's ``hour:minute`` local time, as epoch seconds."""
    now = time.localtime()
    return time.mktime((now.tm_year, now.tm_mon, now.tm_mday, hour, minute, 0, 0, 0, -1))


def _busy_except(quiet: int) -> UsagePattern:
    return UsagePattern(tuple(0 if h == quiet else 10 for h in range(24)), days=7)


def test_without_usage_history_a_check_runs_when_due() -> None:
    now = _local(12)
    assert next_check_at(None, DAY, None, now) == now
    assert next_check_at(now - 3600, DAY, None, now) == now - 3600 + DAY
    assert next_check_at(now - 2 * DAY, DAY, None, now) == now  # overdue: at once
    two_days = UsagePattern(tuple([1] * 24), days=2)
    assert not two_days.known and next_check_at(None, DAY, two_days, now) == now


def test_with_known_usage_a_due_check_waits_for_the_quiet_hour() -> None:
    now = _local(12, 30)
    at = next_check_at(None, DAY, _busy_except(3), now)
    assert time.localtime(at).tm_hour == 3 and time.localtime(at).tm_min == 0
    assert now < at <= now + DAY
    # Due within the quiet hour already: no wait.
    inside = _local(3, 20)
    assert next_check_at(None, DAY, _busy_except(3), inside) == inside
    # Frequent checks keep their interval.
    assert next_check_at(now - 3600, 3600.0, _busy_except(3), now) == now


async def _damaged_store(tmp_path: Path, hub: DevHub) -> Path:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        index = next(f for f in target.files if f.path.endswith(".json"))
        blob = runtime.manager.layout(TI2V).blob_path(index.blob_name)
    blob.chmod(0o644)
    blob.write_bytes(b"<!DOCTYPE html><html>502 Bad Gateway</html>".ljust(index.size_bytes))
    return blob


@pytest.mark.parametrize("automation", ["off", "ask", "auto"])
async def test_the_check_at_start_acts_as_the_automation_setting_says(
    tmp_path: Path, hub: DevHub, automation: str
) -> None:
    await _damaged_store(tmp_path, hub)
    settings = make_settings(tmp_path, hub.url, automation=automation, health_check_interval_s=0)
    async with Runtime(settings) as runtime:
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        results = await runtime.health.check_all()
        assert results[TI2V].level is VerifyLevel.STRUCTURAL
        assert "corruption" in results[TI2V].issues
        await runtime.health.join_background()
        others = [m for m in runtime.catalog.ids() if m != TI2V]
        proposed = {e.model_id: e.data for e in events if e.type == EventType.HEALTH_PROPOSED}
        repaired = [e for e in events if e.type == EventType.REPAIR_FINISHED]
        queued = {e.model_id for e in events if e.type == EventType.DOWNLOAD_QUEUED}
        if automation == "off":
            assert not proposed and not repaired and not queued
        elif automation == "ask":
            assert proposed[TI2V]["action"] == "repair"
            assert {m: proposed[m]["action"] for m in others} == dict.fromkeys(others, "download")
            assert not repaired and not queued
        else:
            assert not proposed
            assert repaired and repaired[0].data["success"]
            assert set(others) <= queued  # never-downloaded models are fetched
            for model_id in others:
                await runtime.downloader.cancel(model_id)
            after = await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
            assert after.is_healthy


async def test_a_paused_download_is_left_paused_by_automation(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url, automation="auto", health_check_interval_s=0)
    async with Runtime(settings) as runtime:
        for model_id in runtime.catalog.ids():
            await runtime.downloader.start_download(model_id)
            await runtime.downloader.pause_download(model_id)
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        await runtime.health.check_all()
        assert not [e for e in events if e.type == EventType.DOWNLOAD_QUEUED]
        for model_id in runtime.catalog.ids():
            progress = await runtime.downloader.get_download_progress(model_id)
            assert progress.status is DownloadStatus.PAUSED


async def test_the_scheduler_runs_the_start_check_then_rounds_at_its_level(
    tmp_path: Path, hub: DevHub
) -> None:
    await _damaged_store(tmp_path, hub)
    settings = make_settings(
        tmp_path,
        hub.url,
        automation="off",
        health_check_interval_s=0.2,
        health_check_level="full",
    )
    async with Runtime(settings) as runtime:
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        await runtime.health.schedule_health_checks()
        deadline = time.monotonic() + 20
        while len([e for e in events if e.type == EventType.HEALTH_CHECKED]) < 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        levels = [e.data["level"] for e in events if e.type == EventType.HEALTH_CHECKED]
        assert levels[:3] == ["structural", "full", "full"]
        assert runtime.health.next_scheduled_check is not None and runtime.health.scheduling
    assert not runtime.health.scheduling  # closing the runtime stopped the schedule
