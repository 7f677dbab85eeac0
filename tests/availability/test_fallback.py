"""IntelligentFallbackManager on a real store, against the local hub: each strategy from
the facts that call for it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from modelward.actions import Action
from modelward.availability import (
    ErrorCategory,
    ErrorContext,
    FallbackType,
    GenerationRequirements,
    NoAlternativeError,
    QualityDifference,
)
from modelward.availability.fallback import lower_resolution
from modelward.devhub import DevHub, Fault
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus
from tests.conftest import TI2V, make_settings

T2V = "t2v-a14b"
TEXT_JOB = ErrorContext(GenerationRequirements(quality="high", speed="medium"))


async def test_intelligent_fallback(runtime: Runtime) -> None:
    # The seed's scenario, as written there.
    fallback_manager = runtime.fallback
    suggestion = await fallback_manager.suggest_alternative_model(
        requested_model="t2v-a14b",
        requirements=GenerationRequirements(quality="high", speed="medium"),
    )
    assert suggestion.suggested_model in ["i2v-a14b", "ti2v-5b"]
    assert suggestion.compatibility_score > 0.7
    # And what this project promises about it: the text-only job gets TI2V, with the cost.
    assert suggestion.suggested_model == TI2V
    assert suggestion.estimated_quality_difference is QualityDifference.SLIGHTLY_LOWER
    assert suggestion.availability_status is ModelAvailabilityStatus.MISSING
    assert "quality medium" in suggestion.reason


async def test_an_impossible_job_names_why_each_model_is_out(runtime: Runtime) -> None:
    job = GenerationRequirements(inputs=frozenset({"image"}), vram_gb=16.0)
    with pytest.raises(NoAlternativeError) as none:
        await runtime.fallback.suggest_alternative_model(T2V, job)
    assert "i2v-a14b needs at least 80 GB" in none.value.message
    assert "ti2v-5b needs at least 24 GB" in none.value.message


async def test_a_missing_model_is_downloaded_while_the_hub_answers(runtime: Runtime) -> None:
    strategy = await runtime.fallback.get_fallback_strategy(TI2V, TEXT_JOB)
    assert strategy.strategy_type is FallbackType.DOWNLOAD_AND_RETRY
    assert (strategy.action, strategy.action_model) == ("download", TI2V)  # a code, no route
    assert strategy.recommended_action == f"download {TI2V}, then run the job again"
    assert strategy.estimated_wait_time is not None and strategy.wait is not None
    assert not strategy.wait.speed_measured and "assuming" in strategy.wait.reason
    assert strategy.wait.low_seconds is not None and strategy.wait.high_seconds is not None
    assert strategy.wait.low_seconds <= strategy.wait.seconds <= strategy.wait.high_seconds  # type: ignore[operator]


async def test_a_ready_alternative_is_offered_for_a_missing_model(runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    strategy = await runtime.fallback.get_fallback_strategy(T2V, TEXT_JOB)
    assert strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL
    assert strategy.alternative_model == TI2V and strategy.suggestion is not None
    assert strategy.suggestion.availability_status is ModelAvailabilityStatus.AVAILABLE
    assert "ready now" in strategy.user_message


async def test_nothing_ready_and_the_hub_down_is_a_labelled_mock_with_steps(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=0)) as runtime:
        await hub.stop()
        strategy = await runtime.fallback.get_fallback_strategy(T2V, TEXT_JOB)
    assert strategy.strategy_type is FallbackType.MOCK_GENERATION
    assert "mock" in strategy.recommended_action and "labelled mock" in strategy.user_message
    fetches = {s.model_id for s in strategy.steps if s.action is Action.DOWNLOAD}
    assert fetches == {"t2v-a14b", "ti2v-5b"}


async def test_a_model_on_its_way_is_waited_for_with_a_measured_eta(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        hub.set_faults([Fault.rate(1_000_000)])
        await runtime.downloader.start_download(TI2V)
        for _ in range(200):
            wait = await runtime.fallback.estimate_wait_time(TI2V)
            if wait.speed_measured:
                break
            await asyncio.sleep(0.05)
        assert wait.speed_measured and wait.queue_position == 1
        assert wait.seconds is not None and wait.seconds > 0
        assert wait.low_seconds < wait.seconds < wait.high_seconds  # type: ignore[operator]
        assert "measured" in wait.reason
        strategy = await runtime.fallback.get_fallback_strategy(TI2V, TEXT_JOB)
        assert strategy.strategy_type is FallbackType.QUEUE_AND_WAIT
        assert strategy.can_queue_request and strategy.estimated_wait_time is not None

        await runtime.downloader.pause_download(TI2V)
        paused = await runtime.fallback.estimate_wait_time(TI2V)
        assert paused.seconds is None and "resume" in paused.reason
        hub.clear_faults()


async def test_too_little_gpu_memory_for_a_ready_model_reduces_requirements(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    job = GenerationRequirements(quality="medium", resolution="1280x704", vram_gb=32.0)
    strategy = await runtime.fallback.get_fallback_strategy(TI2V, ErrorContext(job))
    assert strategy.strategy_type is FallbackType.REDUCE_REQUIREMENTS
    assert "CPU offload" in strategy.changes[0] and "24 GB" in strategy.user_message
    # 704x1280 has as many pixels as the job's 1280x704: not a lower resolution.
    assert strategy.changes == ("enable CPU offload of the model and the text encoder",)


def test_a_lower_resolution_is_chosen_by_pixel_count_not_as_text() -> None:
    offered = ("832x480", "1120x630", "1280x720", "720x1280", "480x832")
    # As text, "1280x720" < "832x480": the old choice offered a larger one as "lower".
    assert lower_resolution("1120x630", offered) == "832x480"
    assert lower_resolution("1280x720", offered) == "1120x630"  # the least given up
    assert lower_resolution("720x1280", offered) == "480x832"  # same orientation first
    assert lower_resolution("832x480", offered) is None
    assert lower_resolution(None, offered) is None


async def test_too_little_gpu_memory_suggests_the_largest_lower_resolution(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(T2V)).success
    job = GenerationRequirements(resolution="1280x720", vram_gb=80.0)
    context = ErrorContext(job, ErrorCategory.VRAM_INSUFFICIENT)
    strategy = await runtime.fallback.get_fallback_strategy(T2V, context)
    assert strategy.strategy_type is FallbackType.REDUCE_REQUIREMENTS
    assert strategy.changes[1] == "or render at a lower resolution (832x480)"


async def test_a_long_wait_beyond_the_job_limit_takes_a_ready_alternative(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        hub.set_faults([Fault.rate(200_000)])
        await runtime.downloader.start_download(T2V)
        impatient = GenerationRequirements(
            quality="high", speed="medium", max_wait=timedelta(seconds=1)
        )
        for _ in range(200):
            strategy = await runtime.fallback.get_fallback_strategy(T2V, ErrorContext(impatient))
            if strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL:
                break
            await asyncio.sleep(0.05)
        assert strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL
        assert strategy.alternative_model == TI2V and strategy.can_queue_request
        assert strategy.estimated_wait_time is not None  # how long the real one would take
        await runtime.downloader.cancel(T2V)
        hub.clear_faults()
