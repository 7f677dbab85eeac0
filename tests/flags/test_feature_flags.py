"""One test per feature flag: the enhancement on, then off (the plain base behaviour),
on a real runtime against the local hub."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.analytics import StorageConstraints, TimePeriod, UsageData
from modelward.availability import (
    ErrorContext,
    FallbackType,
    GenerationRequirements,
    NoAlternativeError,
)
from modelward.availability.demo import DemoGenerator
from modelward.availability.queueing import GenerationRequest
from modelward.catalog import Catalog, load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import FeatureOffError
from modelward.events import Event, EventType
from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from tests.conftest import TI2V, TI2V_REPO, make_settings

T2V = "t2v-a14b"
TEXT_JOB = ErrorContext(GenerationRequirements(quality="high", speed="medium"))
BIG = "*.safetensors"


def _only_ti2v() -> Catalog:
    """The built-in catalog's TI2V alone, so automation has one model to act on."""
    return Catalog([load_catalog((), env={}).get(TI2V)])


def _file_gets(hub: DevHub) -> Counter[str]:
    """Body-carrying GETs of model files, per path."""
    return Counter(
        r.path
        for r in hub.request_log
        if r.method == "GET" and r.status in (200, 206) and "/api/" not in r.path
    )


async def _downloaded(runtime: Runtime, model_id: str = TI2V) -> None:
    assert (await runtime.downloader.download_with_retry(model_id)).success


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_retries(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(tmp_path, hub.url, feature_retries=on)
    async with Runtime(settings) as runtime:
        hub.set_faults(FaultPlan([Fault.drop(100_000, path_glob=BIG, times=1)]))
        # Even a caller asking for retries gets one attempt while the feature is off.
        result = await runtime.downloader.download_with_retry(TI2V, max_retries=4)
    assert result.success is on
    if not on:
        assert result.total_retries == 0 and result.error_code == "transfer-incomplete"


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_segmented_transfer(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(tmp_path, hub.url, feature_segmented_transfer=on)
    async with Runtime(settings) as runtime:
        await _downloaded(runtime)
    gets = _file_gets(hub)
    biggest = max(hub.manifest(TI2V_REPO).files, key=lambda f: f.size)
    assert biggest.size > settings.segment_bytes  # several segments when on
    if on:
        assert max(gets.values()) > 1
    else:
        assert set(gets.values()) == {1}, gets  # one request per file
        ranged = [r.range for r in hub.request_log if r.range and r.range != "bytes=0-"]
        assert all(r is None or r.startswith("bytes=0-") for r in ranged), ranged


async def test_scheduled_health_checks(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(
        tmp_path, hub.url, feature_scheduled_health_checks=False, health_check_interval_s=3600
    )
    async with Runtime(settings) as runtime:
        checked: list[Event] = []
        runtime.bus.subscribe(lambda e: checked.append(e) if e.type.startswith("health.") else None)
        await runtime.start_background()
        await asyncio.sleep(0.3)
        assert not checked  # no check at start, none scheduled
        assert runtime.health.next_scheduled_check is None

        await runtime.change_settings({"feature_scheduled_health_checks": True})
        await _until(lambda: runtime.health.next_scheduled_check is not None)
        assert runtime.health.next_scheduled_check > time.time()  # type: ignore[operator]

        # Finding 12: switched off again (or interval 0), nothing stays planned in the past.
        await runtime.change_settings({"feature_scheduled_health_checks": False})
        assert runtime.health.next_scheduled_check is None and not runtime.health.scheduling
        await runtime.change_settings(
            {"feature_scheduled_health_checks": True, "health_check_interval_s": 0}
        )
        assert runtime.health.next_scheduled_check is None


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_automatic_repair(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(
        tmp_path,
        hub.url,
        automation="auto",
        health_check_interval_s=0,
        feature_automatic_repair=on,
    )
    async with Runtime(settings, catalog=_only_ti2v()) as runtime:
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        await runtime.health.check_all()  # TI2V is absent: automation would fetch it
        await runtime.health.join_background()
        queued = [e for e in events if e.type == EventType.DOWNLOAD_QUEUED]
        proposed = [e for e in events if e.type == EventType.HEALTH_PROPOSED]
        if on:
            assert queued and not proposed
            assert (await runtime.downloader.wait_for_completion(TI2V)).success
        else:
            assert not queued and proposed[0].data["action"] == "download"
            assert runtime.health.policy.automation == "ask"


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_alternative_suggestions(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(tmp_path, hub.url, feature_alternative_suggestions=on)
    async with Runtime(settings) as runtime:
        await _downloaded(runtime)  # a ready model that takes T2V's text job
        strategy = await runtime.fallback.get_fallback_strategy(T2V, TEXT_JOB)
        advice = await runtime.fallback.advise(T2V, TEXT_JOB.requirements)
        if on:
            assert strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL
            assert [s.suggested_model for s in advice.alternatives][:1] == [TI2V]
            return
        assert strategy.strategy_type is FallbackType.DOWNLOAD_AND_RETRY
        assert strategy.alternative_model is None and not advice.alternatives
        with pytest.raises(NoAlternativeError, match="switched off"):
            await runtime.fallback.suggest_alternative_model(T2V, TEXT_JOB.requirements)
        found = await runtime.availability.handle_model_request(T2V, TEXT_JOB.requirements)
        assert found.model_id is None


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_request_queueing(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(tmp_path, hub.url, feature_request_queueing=on)
    async with Runtime(settings) as runtime:
        hub.set_faults([Fault.rate(500_000)])
        await runtime.downloader.start_download(TI2V)
        strategy = await runtime.fallback.get_fallback_strategy(TI2V, TEXT_JOB)
        request = GenerationRequest("a cat")
        if on:
            assert strategy.strategy_type is FallbackType.QUEUE_AND_WAIT
            queued = await runtime.fallback.queue_request_for_downloading_model(TI2V, request)
            assert queued.success and queued.request_id
        else:
            assert strategy.strategy_type is FallbackType.DOWNLOAD_AND_RETRY
            assert not strategy.can_queue_request and "queueing is switched off" in (
                strategy.user_message
            )
            with pytest.raises(FeatureOffError, match="queueing is switched off"):
                await runtime.fallback.queue_request_for_downloading_model(TI2V, request)
            assert not await runtime.requests.pending()
        hub.clear_faults()
        await runtime.downloader.cancel(TI2V)


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_mock_fallback(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(tmp_path, hub.url, max_retries=0, feature_mock_fallback=on)
    async with Runtime(settings) as runtime:
        await hub.stop()  # nothing ready, nothing fetchable
        strategy = await runtime.fallback.get_fallback_strategy(T2V, TEXT_JOB)
        demo = DemoGenerator(runtime.bridge, tmp_path / "outputs")
        outcome = await demo.generate(T2V, GenerationRequest("a cat"))
    if on:
        assert strategy.strategy_type is FallbackType.MOCK_GENERATION
        assert outcome.is_mock and outcome.output_path is not None
    else:
        assert strategy.strategy_type is FallbackType.NO_MODEL
        assert "mock fallback is switched off" in strategy.user_message
        assert strategy.steps  # what would make the real model available
        assert not outcome.is_mock and outcome.output_path is None
        assert "No model can run it" in outcome.message
        assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_usage_analytics(runtime: Runtime, on: bool) -> None:
    await runtime.change_settings({"feature_usage_analytics": on})
    await runtime.analytics.track_model_usage(TI2V, UsageData(duration_s=2.0, success=True))
    stats = await runtime.analytics.get_usage_statistics(TimePeriod.last_days(1, model_id=TI2V))
    report = await runtime.analytics.generate_usage_report(1)
    assert stats.total_uses == (1 if on else 0)
    assert (report.note is None) is on
    if not on:
        assert "switched off" in (report.note or "") and report.preload == []


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_update_checks(tmp_path: Path, hub: DevHub, on: bool) -> None:
    settings = make_settings(
        tmp_path, hub.url, feature_update_checks=on, feature_scheduled_health_checks=False
    )
    async with Runtime(settings) as runtime:
        await _downloaded(runtime)
        new = hub.bump_commit(TI2V_REPO)
        hub.clear_log()
        await runtime.start_background()
        assert runtime.updater.checking_on_schedule is on
        if on:
            await _until(lambda: runtime.updater.record(TI2V).latest == new)
        else:
            await asyncio.sleep(0.3)
            assert not [r for r in hub.request_log if "/api/models/" in r.path]
            # A person's own check still asks upstream.
            check = await runtime.updater.check_for_update(TI2V)
            assert check.update_available and check.latest_version == new


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_cleanup_suggestions(tmp_path: Path, hub: DevHub, on: bool) -> None:
    # Every unused model is a candidate after 0 days; the disk is "low" below 1 EB.
    settings = make_settings(
        tmp_path,
        hub.url,
        unused_after_days=1e-9,
        low_space_bytes=10**18,
        feature_cleanup_suggestions=on,
    )
    async with Runtime(settings) as runtime:
        await _downloaded(runtime)
        storage = await runtime.storage.status()
        plan = await runtime.analytics.recommend_model_cleanup(StorageConstraints(None, 0))
        advice = await runtime.availability.space_advice(T2V, 10**12)
        if on:
            assert [c.model_id for c in storage.unused] == [TI2V]
            assert [c.model_id for c in plan.removed] == [TI2V] and advice
            return
        assert not storage.unused and not storage.suggestions.removed and not plan.removed
        assert "cleanup suggestions are switched off" in storage.message
        assert plan.message == "cleanup suggestions are switched off" and advice is None
        # A cleanup a person asks for is still planned.
        asked = await runtime.availability.cleanup_unused_models()
        assert asked.message != plan.message


async def test_the_checks_a_person_runs_still_work_with_every_feature_off(
    tmp_path: Path, hub: DevHub
) -> None:
    off = {f"feature_{name}": False for name in ("scheduled_health_checks", "update_checks")}
    async with Runtime(make_settings(tmp_path, hub.url, **off)) as runtime:
        await _downloaded(runtime)
        result = await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
        assert result.is_healthy


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)
