"""Generation requests queued for a model that is on its way: kept in order, released the
moment it is ready, expired on time, and kept across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from modelward.availability import GenerationRequest, RequestState
from modelward.devhub import DevHub, Fault
from modelward.errors import ConfigError, UnknownRequestError
from modelward.events import Event, EventType
from modelward.runtime import Runtime
from tests.conftest import TI2V, make_settings


async def test_queued_requests_are_released_in_order_when_the_download_completes(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        hub.set_faults([Fault.rate(2_000_000)])
        first = await runtime.fallback.queue_request_for_downloading_model(
            TI2V, GenerationRequest(prompt="a fox in the snow")
        )
        second = await runtime.fallback.queue_request_for_downloading_model(
            TI2V, GenerationRequest(prompt="a red kite", params={"steps": 40})
        )
        # The model was missing: queueing for it started its download.
        assert runtime.downloader.is_running(TI2V)
        assert (first.state, first.position) == ("queued", 1)
        assert (second.state, second.position) == ("queued", 2)
        assert first.estimated_wait is not None and first.estimated_wait.seconds
        hub.clear_faults()
        released = await runtime.requests.wait(str(second.request_id), timeout_s=60)
        assert released.state is RequestState.RELEASED
        assert released.payload == {
            "prompt": "a red kite",
            "image": None,
            "params": {"steps": 40},
        }
        order = [e.data["request_id"] for e in events if e.type == EventType.REQUEST_RELEASED]
        assert order == [first.request_id, second.request_id]
        # Released only once the model was complete.
        kinds = [e.type for e in events]
        assert kinds.index(EventType.REQUEST_RELEASED) > max(
            i for i, e in enumerate(events) if e.type == EventType.FILE_VERIFIED
        )
        ready = await runtime.fallback.queue_request_for_downloading_model(
            TI2V, GenerationRequest(prompt="now")
        )
        assert ready.state == "released" and ready.estimated_wait is not None
        assert ready.estimated_wait.seconds == 0


async def test_requests_outlive_a_restart_and_expire_on_time(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        await runtime.downloader.start_download(TI2V)
        await runtime.downloader.pause_download(TI2V)
        keeps = await runtime.requests.put(TI2V, {"prompt": "kept"}, ttl_s=3600)
        brief = await runtime.requests.put(TI2V, {"prompt": "brief"}, ttl_s=0.2)
    await asyncio.sleep(0.3)
    async with Runtime(settings) as runtime:
        await runtime.restore()
        [left] = await runtime.requests.pending(TI2V)
        assert left.request_id == keeps.request_id and left.position == 1
        assert (await runtime.requests.get(brief.request_id)).state is RequestState.EXPIRED
        refused = await runtime.fallback.queue_request_for_downloading_model(
            TI2V, GenerationRequest(prompt="while paused")
        )
        assert not refused.success and "resume" in refused.message
        cancelled = await runtime.requests.cancel(keeps.request_id)
        assert cancelled.state is RequestState.CANCELLED
        assert await runtime.requests.pending() == []
        with pytest.raises(UnknownRequestError):
            await runtime.requests.get("nope")
        with pytest.raises(ConfigError):
            await runtime.requests.put(TI2V, {}, ttl_s=0)


async def test_a_request_for_a_model_that_is_ready_is_released_at_start(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
    async with Runtime(settings) as runtime:
        # Left queued (a crash between the model's arrival and the release, say).
        queued = await runtime.requests.put(TI2V, {"prompt": "later"})
    async with Runtime(settings) as runtime:
        assert (await runtime.requests.get(queued.request_id)).state is RequestState.QUEUED
        await runtime.restore()
        assert (await runtime.requests.get(queued.request_id)).state is RequestState.RELEASED
