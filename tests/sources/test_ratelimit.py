"""The hub's rate limits: reading its headers, the gate, and metadata calls that wait.

Header parsing is pure; the metadata cases ask the local hub with a rate limit over real
sockets.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Manners
from modelward.errors import ModelwardError, RateLimitedError, SourceUnavailableError
from modelward.sources import HttpClients, HubSource
from modelward.sources.http import build_clients
from modelward.sources.http_errors import raise_for_status
from modelward.sources.ratelimit import (
    MAX_WAIT_S,
    RateLimitGate,
    _Window,
    rate_limit_host,
    read_rate_limit,
    wait_after_refusal,
)
from modelward.transfer.retry import RetryPolicy, call_with_retry, rate_limit_wait_s

SPEC = load_catalog(env={}).get("ti2v-5b")


def test_the_drafts_structured_fields() -> None:
    state = read_rate_limit(
        {
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
            "RateLimit": '"api";r=37;t=23',
        }
    )
    assert (state.remaining, state.reset_s, state.retry_after_s) == (37, 23.0, None)


def test_the_tightest_of_several_limits_counts() -> None:
    state = read_rate_limit({"ratelimit": '"api";r=40;t=5, "burst";r=0;t=2'})
    assert (state.remaining, state.reset_s) == (0, 2.0)


def test_the_older_drafts_forms() -> None:
    dictionary = read_rate_limit({"RateLimit": "limit=100, remaining=0, reset=7"})
    assert (dictionary.remaining, dictionary.reset_s) == (0, 7.0)
    legacy = read_rate_limit({"RateLimit-Remaining": "3", "RateLimit-Reset": "9"})
    assert (legacy.remaining, legacy.reset_s) == (3, 9.0)


def test_a_legacy_reset_given_as_a_unix_time_is_seconds_from_now() -> None:
    state = read_rate_limit({"RateLimit-Reset": str(int(time.time()) + 30)})
    assert state.reset_s is not None and 28 <= state.reset_s <= 30


def test_retry_after_as_seconds_or_as_an_http_date() -> None:
    assert read_rate_limit({"Retry-After": "12"}).retry_after_s == 12.0
    when = email.utils.formatdate(time.time() + 40, usegmt=True)
    after = read_rate_limit({"Retry-After": when}).retry_after_s
    assert after is not None and 38 <= after <= 40
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert read_rate_limit({"Retry-After": past}).retry_after_s == 0.0
    assert read_rate_limit({"Retry-After": "soon"}).retry_after_s is None


def test_absurd_figures_are_capped() -> None:
    state = read_rate_limit({"RateLimit": '"api";r=0;t=99999999', "Retry-After": "8640000"})
    assert state.reset_s == MAX_WAIT_S and state.retry_after_s == MAX_WAIT_S
    assert wait_after_refusal(state) == MAX_WAIT_S


def test_a_refusal_waits_retry_after_else_the_reset_else_a_second() -> None:
    assert (
        wait_after_refusal(read_rate_limit({"Retry-After": "4", "RateLimit": '"a";r=0;t=9'})) == 4
    )
    assert wait_after_refusal(read_rate_limit({"RateLimit": '"a";r=0;t=9'})) == 9
    assert wait_after_refusal(read_rate_limit({})) == 1.0


def test_a_refusal_announcing_no_wait_still_waits_a_second() -> None:
    # Else a 429 saying 0 s (or a date past) is asked again at once, forever: a wait is
    # never a failure, so nothing else would stop it.
    for headers in (
        {"Retry-After": "0"},
        {"Retry-After": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"RateLimit": '"resolve";r=0;t=0'},
    ):
        assert wait_after_refusal(read_rate_limit(headers)) == 1.0, headers
    assert rate_limit_wait_s(RateLimitedError("x")) == 1.0


def test_the_gate_closes_when_the_limit_is_used_up_per_host_and_bucket() -> None:
    gate = RateLimitGate()
    assert gate.note("hub:1", {"RateLimit": '"api";r=3;t=5'}, bucket="api") == 0.0
    gate.check("hub:1", "metadata", bucket="api")
    assert gate.note("hub:1", {"RateLimit": '"api";r=0;t=5'}, bucket="api") == 5
    with pytest.raises(RateLimitedError, match="rate-limited by the hub, resuming in 5 s"):
        gate.check("hub:1", "metadata", bucket="api")
    gate.check("hub:1", "resolve")  # the resolve calls are counted apart
    gate.check("cdn:2", "metadata", bucket="api")
    assert rate_limit_host("https://user@Hub.Example:8443/api/x") == "hub.example:8443"


def test_the_gate_counts_calls_so_a_window_end_brings_no_rush_of_429s() -> None:
    window = _Window()
    policy = {"RateLimit-Policy": '"resolve";q=3;w=10'}
    window.learn(read_rate_limit({**policy, "RateLimit": '"resolve";r=2;t=4'}), 0.0, False)
    assert [window.admit(0.1), window.admit(0.2)] == [0.0, 0.0]
    assert window.admit(0.5) == pytest.approx(3.5)  # used up here, before any answer says so
    # An answer that overtook others says more calls are left: the fewest left holds.
    window.learn(read_rate_limit({**policy, "RateLimit": '"resolve";r=1;t=4'}), 0.6, False)
    assert window.admit(1.0) == pytest.approx(3.0)
    # The window ended: a fresh one holds the policy's quota, and no more.
    assert [window.admit(5.0 + i / 10) for i in range(3)] == [0.0, 0.0, 0.0]
    assert window.admit(5.5) == pytest.approx(9.5)


def test_a_refusal_closes_the_gate_for_the_time_announced() -> None:
    window = _Window()
    assert window.learn(read_rate_limit({"Retry-After": "7"}), 100.0, True) == 7
    assert window.admit(101.0) == pytest.approx(6.0)
    assert window.admit(107.0) == 0.0  # no policy known: the calls are not counted


@pytest.fixture
async def limited_hub(hub_root: Path) -> AsyncIterator[DevHub]:
    hub = DevHub(root=hub_root, scale="tiny", manners=Manners(rate_limit=1, rate_window_s=1.5))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def _use_up_the_window(hub: DevHub) -> None:
    """Spend the window's calls from another client, whose answers our gate never sees."""
    async with httpx.AsyncClient(base_url=hub.url) as other:
        while (await other.get(f"/api/models/{SPEC.repo}/revision/main")).status_code != 429:
            pass


async def _with_source(hub: DevHub) -> tuple[HttpClients, HubSource]:
    clients = build_clients()
    return clients, HubSource(clients, hub.url)


async def test_a_metadata_call_answered_429_waits_as_announced_and_succeeds(
    limited_hub: DevHub,
) -> None:
    clients, source = await _with_source(limited_hub)
    told: list[tuple[ModelwardError, int, float]] = []
    try:
        await _use_up_the_window(limited_hub)
        started = time.monotonic()
        target = await call_with_retry(
            lambda: source.resolve(SPEC),
            RetryPolicy(max_retries=0, base_delay_s=30, jitter=0),  # a failure would end it
            on_retry=lambda error, failures, delay: told.append((error, failures, delay)),
        )
        waited = time.monotonic() - started
    finally:
        await clients.aclose()
    assert target.commit == limited_hub.manifest(SPEC.repo).commit
    assert [type(e) for e, _, _ in told] == [RateLimitedError] and told[0][1] == 0
    announced = told[0][2]
    assert 0 < announced <= 2 and waited >= announced - 0.05
    statuses = [r.status for r in limited_hub.request_log if "/api/" in r.path]
    assert statuses[-2:] == [429, 200]


async def test_the_wait_is_honoured_with_retries_switched_off(limited_hub: DevHub) -> None:
    clients, source = await _with_source(limited_hub)
    try:
        await _use_up_the_window(limited_hub)
        off = RetryPolicy(enabled=False)
        target = await call_with_retry(lambda: source.resolve(SPEC), off)
    finally:
        await clients.aclose()
    assert target.files


async def test_a_used_up_limit_is_waited_for_without_asking(limited_hub: DevHub) -> None:
    # The first answer says no call is left: the next one is not spent on a 429.
    clients, source = await _with_source(limited_hub)
    try:
        await source.resolve(SPEC)
        with pytest.raises(RateLimitedError) as refused:
            await source.resolve(SPEC)
        assert refused.value.retry_after_s is not None and 0 < refused.value.retry_after_s <= 2
        assert [r.status for r in limited_hub.request_log] == [200]
        await call_with_retry(lambda: source.resolve(SPEC), RetryPolicy(max_retries=0))
    finally:
        await clients.aclose()
    assert [r.status for r in limited_hub.request_log] == [200, 200]


def test_a_429_is_rate_limited_and_a_5xx_stays_unavailable() -> None:
    request = httpx.Request("GET", "https://hub.example/api/x")
    limited = httpx.Response(429, headers={"RateLimit": '"api";r=0;t=17'}, request=request)
    with pytest.raises(RateLimitedError, match="resuming in 17 s") as caught:
        raise_for_status(limited, "metadata")
    assert caught.value.retry_after_s == 17
    failing = httpx.Response(503, headers={"Retry-After": "3"}, request=request)
    with pytest.raises(SourceUnavailableError) as unavailable:
        raise_for_status(failing, "metadata")
    assert not isinstance(unavailable.value, RateLimitedError)
    assert unavailable.value.retry_after_s == 3
