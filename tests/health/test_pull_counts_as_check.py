"""Repro (temporary)."""

from __future__ import annotations

import asyncio

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.events import Event
from modelward.runtime import Runtime
from tests.conftest import TI2V


async def test_repro(hub: DevHub, runtime: Runtime) -> None:
    events: list[Event] = []
    runtime.bus.subscribe(
        lambda e: events.append(e) if e.type in ("download.started", "file.verified", "download.state", "download.queued", "model.state", "health.checked") else None
    )
    hub.set_faults(FaultPlan([Fault.rate(400_000)]))
    await runtime.downloader.start_download(TI2V)
    while True:
        p = await runtime.downloader.get_download_progress(TI2V)
        if p.downloaded_bytes > 300_000:
            break
        await asyncio.sleep(0.02)
    assert await runtime.downloader.pause_download(TI2V)
    hub.clear_faults()
    assert await runtime.downloader.resume_download(TI2V)
    r = await runtime.downloader.wait_for_completion(TI2V)
    assert r.success
    for e in events:
        print(e.type, {k: v for k, v in e.data.items() if k in ("status", "fetched", "path", "state")})
    print(runtime.health.history.recent(TI2V))
    print(runtime.health.last_results.get(TI2V))
    assert False
