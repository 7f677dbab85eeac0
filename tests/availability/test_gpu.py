"""GPU memory for fallback decisions: the NVIDIA driver's reading when there is one, else the
setting. No NVIDIA GPU exists here, so the driver is stood in for by a module with NVML's
calls (the one thing in this suite we cannot run for real)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelward.availability import ErrorContext, FallbackType, VramProbe
from modelward.devhub import DevHub
from modelward.runtime import Runtime
from tests.conftest import TI2V, make_settings

GIB = 2**30


@dataclass
class _Memory:
    total: int
    free: int
    used: int


def _fake_nvml(free_gib: list[float], *, init_error: Exception | None = None) -> types.ModuleType:
    module = types.ModuleType("pynvml")

    def init() -> None:
        if init_error is not None:
            raise init_error

    module.nvmlInit = init  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: len(free_gib)  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    module.nvmlDeviceGetName = lambda i: f"NVIDIA GeForce RTX 4090 #{i}"  # type: ignore[attr-defined]
    module.nvmlDeviceGetMemoryInfo = lambda i: _Memory(  # type: ignore[attr-defined]
        24 * GIB, int(free_gib[i] * GIB), 24 * GIB - int(free_gib[i] * GIB)
    )
    return module


def test_without_a_gpu_the_setting_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml([], init_error=OSError("no driver")))
    assert VramProbe(20.0).free_gb() == 20.0 and VramProbe(20.0).source == "setting"
    assert VramProbe().free_gb() is None and VramProbe().source == "unknown"
    assert VramProbe(12.0).gpus() == []


def test_the_roomiest_gpu_is_read_from_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml([3.5, 21.25]))
    probe = VramProbe()
    assert probe.free_gb() == 21.25 and probe.source == "nvml"
    [first, second] = probe.gpus()
    assert first.name.startswith("NVIDIA") and second.total_gb == 24.0
    # A figure a person set wins over the reading (their app may already hold memory).
    assert VramProbe(8.0).free_gb() == 8.0 and VramProbe(8.0).source == "setting"


async def test_the_installed_nvml_binding_answers_without_a_gpu() -> None:
    # The real package is a dependency; on a machine without the driver it must say "none".
    probe = VramProbe()
    if probe.gpus():
        pytest.skip("this machine has an NVIDIA GPU")
    assert await probe.read_gb() is None and probe.source == "unknown"


async def test_fallback_decisions_use_the_gpu_reading(
    tmp_path: Path, hub: DevHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        spec = runtime.catalog.get(TI2V)
        assert spec.vram_min_gb is not None
        assert spec.vram_recommended_gb is not None and spec.vram_recommended_gb > spec.vram_min_gb
        monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml([spec.vram_min_gb + 0.5]))
        runtime.fallback.vram = VramProbe()
        strategy = await runtime.fallback.get_fallback_strategy(TI2V, ErrorContext())
        assert strategy.strategy_type is FallbackType.REDUCE_REQUIREMENTS
        assert f"{spec.vram_min_gb + 0.5:g} GB" in strategy.user_message
