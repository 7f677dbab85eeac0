"""The live event stream: SSE over a real socket, and its coalescing on a bare bus."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from modelward.api.stream import (
    CONNECTED_FRAME,
    KEEPALIVE_FRAME,
    PROGRESS_EVENT,
    ProgressCoalescer,
    StreamTiming,
    event_frames,
)
from modelward.devhub import Fault, FaultPlan
from modelward.events import Event, EventBus, EventType
from modelward.transfer import DownloadProgress, DownloadStatus
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V


@dataclass
class Frame:
    """One SSE frame: an event with JSON data, or a comment."""

    event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None


class SseReader:
    """Reads frames from a streaming response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.iter_lines()

    def next(self) -> Frame:
        frame = Frame()
        for line in self._lines:
            if line == "":
                if frame.event or frame.comment is not None:
                    return frame
                continue
            if line.startswith(":"):
                frame.comment = line[1:].strip()
            elif line.startswith("event: "):
                frame.event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                frame.data = json.loads(line.removeprefix("data: "))
        raise AssertionError("the stream ended")

    def until(self, predicate: Any, seen: list[Frame], timeout_s: float = 30) -> Frame:
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self.next()
            seen.append(frame)
            if predicate(frame):
                return frame
            assert time.monotonic() < deadline, [f.event for f in seen]


@contextmanager
def events(live: LiveService) -> Iterator[SseReader]:
    with live.client.stream("GET", "/api/v1/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response)
        assert reader.next().comment == "connected"  # subscribed from here on
        yield reader


def _subscribers(live: LiveService) -> int:
    return live.runtime.bus.subscriber_count


def test_stream_carries_a_download_and_its_pause(start_service: StartService) -> None:
    live = start_service(connections=2)
    live.hub.set_faults(FaultPlan([Fault.rate(500_000)]))
    seen: list[Frame] = []
    with events(live) as stream:
        live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH)
        stream.until(
            lambda f: f.event == PROGRESS_EVENT and f.data["data"]["downloaded_bytes"] > 0, seen
        )
        assert live.client.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH).json()["changed"]
        paused = stream.until(lambda f: f.event == "download.state", seen)
        assert paused.data["model_id"] == TI2V and paused.data["data"]["status"] == "paused"
        last = stream.until(lambda f: f.event == PROGRESS_EVENT, seen)
        assert last.data["data"]["status"] == "paused" and last.data["data"]["can_resume"]

    kinds = [f.event for f in seen if f.event]
    assert kinds[0] == "download.queued"
    assert PROGRESS_EVENT in kinds[kinds.index("download.started") :]
    assert "file.bytes" not in kinds
    progress = [f.data for f in seen if f.event == PROGRESS_EVENT]
    assert all(p["model_id"] == TI2V and p["data"]["total_bytes"] > 0 for p in progress[1:])
    # At most one progress event per 0.25 s (the first may come at once).
    span_s = progress[-1]["at"] - progress[0]["at"]
    assert len(progress) <= span_s / 0.25 + 2, (len(progress), span_s)


def test_stream_carries_health_checks_and_performance(start_service: StartService) -> None:
    live = start_service()
    seen: list[Frame] = []
    with events(live) as stream:
        live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH)
        stream.until(
            lambda f: f.event == "download.state" and f.data["data"]["status"] == "completed", seen
        )
        live.client.post(f"/api/v1/models/{TI2V}/verify?level=full", headers=AUTH)
        checked = stream.until(lambda f: f.event == "health.checked", seen)
        assert checked.data["model_id"] == TI2V
        assert checked.data["data"]["level"] == "full" and checked.data["data"]["is_healthy"]
        metrics = {"generation_time_s": 30.0}
        live.client.post(f"/api/v1/models/{TI2V}/performance", json=metrics, headers=AUTH)
        perf = stream.until(lambda f: f.event == "health.performance", seen)
        assert perf.data["data"]["status"] == "learning"


def test_idle_stream_sends_keep_alive_comments(start_service: StartService) -> None:
    live = start_service()
    with events(live) as stream:
        assert stream.next().comment == "keep-alive"
        assert stream.next().comment == "keep-alive"


def test_closed_streams_leave_no_subscriber_behind(start_service: StartService) -> None:
    live = start_service()
    baseline = _subscribers(live)
    with events(live), events(live), events(live):
        assert _subscribers(live) == baseline + 3
    deadline = time.monotonic() + 10
    while _subscribers(live) != baseline:
        assert time.monotonic() < deadline, _subscribers(live)
        time.sleep(0.05)


async def _progress_of(model_id: str) -> DownloadProgress:
    return DownloadProgress(
        model_id=model_id,
        status=DownloadStatus.DOWNLOADING,
        progress_percent=0.0,
        downloaded_mb=0.0,
        total_mb=0.0,
        speed_mbps=0.0,
    )


async def test_a_burst_of_file_bytes_becomes_few_progress_events() -> None:
    bus = EventBus()
    frames = event_frames(bus, _progress_of, StreamTiming(progress_interval_s=0.25))
    assert await anext(frames) == CONNECTED_FRAME
    got: list[str] = []

    async def read() -> None:
        async for frame in frames:
            got.append(frame)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0)
    started = time.monotonic()
    for i in range(1, 2001):  # 2000 file.bytes over about half a second, two models
        model_id = ("a", "b")[i % 2]
        bus.publish(Event(EventType.FILE_BYTES, model_id, {"path": "f", "done_bytes": i}))
        if i == 1000:
            bus.publish(Event(EventType.DOWNLOAD_STATE, "a", {"status": "paused"}))
        if i % 100 == 0:
            await asyncio.sleep(0.025)
    await asyncio.sleep(0.4)  # the last changes are sent within one interval
    elapsed_s = time.monotonic() - started
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    kinds = [frame.split("\n", 1)[0] for frame in got if not frame.startswith(":")]
    assert "event: file.bytes" not in kinds
    assert kinds.count("event: download.state") == 1
    per_model = {
        m: sum(1 for f in got if f.startswith(f"event: {PROGRESS_EVENT}") and f'"{m}"' in f)
        for m in ("a", "b")
    }
    for count in per_model.values():
        assert 2 <= count <= elapsed_s / 0.25 + 2, (per_model, elapsed_s)
    assert bus.subscriber_count == 0  # the cancelled stream unsubscribed


async def test_state_changes_are_not_held_back_by_progress() -> None:
    bus = EventBus()
    frames = event_frames(bus, _progress_of, StreamTiming(progress_interval_s=60))
    assert await anext(frames) == CONNECTED_FRAME
    bus.publish(Event(EventType.FILE_BYTES, "a", {"path": "f", "done_bytes": 1}))
    first = await asyncio.wait_for(anext(frames), 5)
    assert first.startswith(f"event: {PROGRESS_EVENT}\n")  # the first is due at once
    bus.publish(Event(EventType.FILE_BYTES, "a", {"path": "f", "done_bytes": 2}))
    bus.publish(Event(EventType.DOWNLOAD_STATE, "a", {"status": "paused"}))
    state = await asyncio.wait_for(anext(frames), 5)
    assert state.startswith("event: download.state\ndata: ")
    assert json.loads(state.split("data: ", 1)[1])["data"] == {"status": "paused"}
    await frames.aclose()
    assert bus.subscriber_count == 0


async def test_keep_alive_while_idle() -> None:
    frames = event_frames(EventBus(), _progress_of, StreamTiming(keepalive_s=0.05))
    assert await anext(frames) == CONNECTED_FRAME
    assert await asyncio.wait_for(anext(frames), 5) == KEEPALIVE_FRAME
    await frames.aclose()


def test_coalescer_sends_each_model_at_most_once_per_interval() -> None:
    c = ProgressCoalescer(0.25)
    assert c.wait_s(0.0) is None and c.due(0.0) == []
    c.mark("a")
    assert c.wait_s(0.0) == 0.0 and c.due(0.0) == ["a"]  # the first change goes at once
    c.mark("a")
    c.mark("b")
    assert c.due(0.1) == ["b"]
    assert c.wait_s(0.1) == pytest.approx(0.15)
    assert c.due(0.2) == []
    assert c.due(0.25) == ["a"]
    assert c.wait_s(0.25) is None
