"""Token buckets shared by receiving threads: stopping a waiting draw is prompt."""

from __future__ import annotations

import threading
import time

from modelward.transfer.throttle import TokenBucket


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
