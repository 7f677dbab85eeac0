"""Token buckets shared by receiving threads: stopping a waiting draw is prompt."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from modelward.errors import ConfigError
from modelward.runtime import Runtime
from modelward.transfer.throttle import TokenBucket
from modelward.units import MB
from tests.conftest import TI2V, make_settings


def test_a_stopped_draw_returns_even_while_another_holds_the_turn() -> None:
    bucket = TokenBucket(1000)
    assert bucket.acquire(10_000, threading.Event())  # leaves ~10 s of debt
    holder_stop, waiter_stop = threading.Event(), threading.Event()
    holder = threading.Thread(target=bucket.acquire, args=(100, holder_stop))
    holder.start()
    time.sleep(0.1)  # the holder now waits for tokens, holding the turn
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(bucket.acquire(100, waiter_stop)))
    waiter.start()
    time.sleep(0.1)
    began = time.monotonic()
    waiter_stop.set()
    waiter.join(timeout=5)
    assert result == [False]
    assert time.monotonic() - began < 1
    holder_stop.set()
    holder.join(timeout=5)
    assert not holder.is_alive()


def test_a_rate_of_zero_never_waits() -> None:
    bucket = TokenBucket(0)
    began = time.monotonic()
    assert all(bucket.acquire(1 << 30, threading.Event()) for _ in range(100))
    assert time.monotonic() - began < 0.5


async def test_caps_travel_in_bytes_per_second_and_the_seed_call_in_decimal_mb(
    tmp_path: Path,
) -> None:
    async with Runtime(make_settings(tmp_path, "http://127.0.0.1:9")) as runtime:
        downloader = runtime.downloader
        await downloader.set_bandwidth_limit(2.5)  # the seed's call: MB/s, 10**6 bytes
        assert downloader.rate_limit_bytes_per_s == 2_500_000
        assert downloader.throttle.global_bucket.rate_bytes_per_s == 2_500_000
        await downloader.set_rate_limit(20 * MB)
        await downloader.set_rate_limit(5 * MB, TI2V)
        assert downloader.rate_limit_bytes_per_s == 20 * MB  # a model's cap is its own
        for seed_bad in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ConfigError):
                await downloader.set_bandwidth_limit(seed_bad)
        for bad in (-1, 2 * 10**12):
            with pytest.raises(ConfigError) as info:
                await downloader.set_rate_limit(bad)
            assert "20MB/s" in info.value.hint
        assert downloader.rate_limit_bytes_per_s == 20 * MB  # refused values change nothing
