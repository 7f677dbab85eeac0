"""The bridge and the demo generator, as an app sees them: a path to a real model, an
alternative, a labelled mock, or the strategy; switching to the real model with no restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from modelward.analytics import TimePeriod, UsageLog
from modelward.availability import (
    DemoGenerator,
    FallbackType,
    GenerationRequest,
    GenerationRequirements,
)
from modelward.devhub import DevHub
from modelward.runtime import Runtime
from modelward.status import model_status
from tests.conftest import TI2V, make_settings

T2V = "t2v-a14b"


async def test_a_ready_model_is_leased_marked_loaded_and_its_job_recorded(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    async with runtime.bridge.use_model(TI2V) as lease:
        assert lease.is_requested_model and not lease.is_mock and lease.path
        assert (Path(lease.path) / "model_index.json").is_file()
        during = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert during.is_loaded
        lease.report(width=1280, height=704, num_frames=121, steps=50)
    after = await model_status(runtime.downloader, TI2V, health=runtime.health)
    assert not after.is_loaded
    [recorded] = runtime.health.generations.history(TI2V)
    assert recorded.success and recorded.width == 1280 and recorded.steps == 50

    with pytest.raises(RuntimeError):
        async with runtime.bridge.use_model(TI2V):
            raise RuntimeError("CUDA out of memory")
    failed = runtime.health.generations.history(TI2V)[-1]
    assert not failed.success and "CUDA out of memory" in (failed.error or "")


async def test_the_demo_goes_from_mock_to_alternative_to_the_real_model_without_restart(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=0)) as runtime:
        demo = DemoGenerator(runtime.bridge, tmp_path / "out")
        request = GenerationRequest(prompt="a lighthouse at dusk")
        text_job = GenerationRequirements(quality="high", speed="medium")

        await hub.stop()  # nothing downloaded, nothing can be
        mock = await demo.generate(T2V, request, text_job)
        assert mock.is_mock and mock.used_model is None and "MOCK" in mock.message
        assert mock.upgrade and mock.upgrade.action == "download" and mock.upgrade.model_id == T2V
        assert mock.output_path is not None and "MOCK-" in Path(mock.output_path).name
        written = json.loads(Path(mock.output_path).read_text())
        assert written["label"].startswith("MOCK OUTPUT") and written["used_model"] is None

        await hub.start(port=int(hub.url.rsplit(":", 1)[1]))  # back, same address
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        alternative = await demo.generate(T2V, request, text_job)
        assert not alternative.is_mock and alternative.used_model == TI2V
        assert alternative.strategy is not None
        assert alternative.strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL
        assert f"instead of {T2V}" in alternative.message and alternative.upgrade

        assert (await runtime.downloader.download_with_retry(T2V)).success
        real = await demo.generate(T2V, request, text_job)
        assert real.used_model == T2V and real.strategy is None and real.upgrade is None
        result = json.loads(Path(str(real.output_path)).read_text())
        assert result["pipeline"] == "WanPipeline" and "no diffusion ran" in result["label"]


async def test_a_model_on_its_way_gives_the_strategy_not_a_mock(runtime: Runtime) -> None:
    demo = DemoGenerator(runtime.bridge, Path("/nonexistent-never-written"))
    outcome = await demo.generate(TI2V, GenerationRequest(prompt="x"))
    assert outcome.output_path is None and not outcome.is_mock
    assert outcome.strategy is not None
    assert outcome.strategy.strategy_type is FallbackType.DOWNLOAD_AND_RETRY


async def test_each_job_is_tracked_for_analytics_with_what_else_was_loaded(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    assert (await runtime.downloader.download_with_retry("i2v-a14b")).success
    commit = runtime.manager.local_commit(TI2V)
    async with (
        runtime.bridge.use_model(TI2V),
        runtime.bridge.use_model("i2v-a14b", GenerationRequirements(inputs=frozenset({"image"}))),
    ):
        pass
    async with runtime.bridge.use_model(T2V):  # runs on an alternative
        pass
    events = UsageLog(runtime.db).events(0, time.time() + 1)
    by_model = [(e.model_id, e.usage.concurrent_loaded, e.usage.requested_model) for e in events]
    assert by_model == [("i2v-a14b", 2, None), (TI2V, 2, None), (events[-1].model_id, 1, T2V)]
    assert events[1].usage.commit == commit and events[1].usage.success
    stats = await runtime.analytics.get_usage_statistics(TimePeriod.last_days(1, model_id=TI2V))
    assert stats.total_uses == 1 + (events[-1].model_id == TI2V)
