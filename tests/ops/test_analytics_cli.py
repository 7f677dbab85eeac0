"""`modelward analytics` shows the operations figures: download success and retries per
model, checks per day and fallback usage, in its table and in --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from modelward.settings import Settings
from tests.conftest import TI2V

T2V = "t2v-a14b"


def _analytics(settings: Settings, hub: DevHub, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env |= {
        "HF_ENDPOINT": hub.url,
        "HF_HUB_CACHE": str(settings.cache_dir),
        "MODELWARD_HOME": str(settings.home),
        "COLUMNS": "100",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "modelward", "analytics", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


async def test_analytics_shows_downloads_checks_and_fallbacks(
    settings: Settings, hub: DevHub
) -> None:
    async with Runtime(settings) as rt:
        hub.set_faults(FaultPlan([Fault.http_status(503, path_glob="*model_index.json", times=1)]))
        assert (await rt.downloader.download_with_retry(TI2V)).success
        hub.clear_faults()
        await rt.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
        async with rt.bridge.use_model(T2V) as lease:  # T2V is not here: the alternative
            assert lease.model_id == TI2V
        await rt.operations.flush()

    shown = _analytics(settings, hub)
    assert "downloads over the last 30 days" in shown and "integrity checks per day" in shown
    downloads = shown[shown.index("downloads over the last") :].splitlines()
    cells = [cell.strip() for cell in downloads[4].split("│")[1:-1]]
    assert cells[:4] == [TI2V, "1", "100%", "1"], shown  # model, jobs, success, retries
    assert "fallback strategies: alternative_model 1" in shown
    assert f"{T2V} ran on {TI2V}: 1 jobs" in shown

    ops = json.loads(_analytics(settings, hub, "--json"))["operations"]
    [ti2v] = ops["downloads"]
    assert ti2v["model_id"] == TI2V and ti2v["completed"] == 1 and ti2v["retries"] >= 1
    assert ops["health_trend"][0]["checks"] >= 1
    assert ops["alternatives"] == [{"requested_model": T2V, "used_model": TI2V, "count": 1}]
