"""The shared httpx clients are built on first use (a command that asks nothing pays for no
TLS context), once, with the timeouts asked for, and closed with the rest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub
from modelward.sources import HubSource
from modelward.sources.http import build_clients
from tests.conftest import TI2V


async def test_each_client_is_built_once_with_its_timeouts_and_closed_with_the_rest() -> None:
    clients = build_clients(connect_timeout_s=1.5, read_timeout_s=4.0, stall_timeout_s=9.0)
    metadata = clients.metadata
    assert clients.metadata is metadata
    assert (metadata.timeout.connect, metadata.timeout.read) == (1.5, 4.0)
    with ThreadPoolExecutor(4) as workers:  # file bodies are read by worker threads
        seen = list(workers.map(lambda _: clients.bodies, range(8)))
    bodies = clients.bodies
    assert all(made is bodies for made in seen)
    assert bodies.timeout.read == 9.0
    await clients.aclose()
    assert metadata.is_closed and bodies.is_closed


async def test_clients_never_used_close_without_being_built() -> None:
    await build_clients().aclose()


async def test_a_source_asks_the_hub_through_a_client_made_on_its_first_call(
    hub: DevHub,
) -> None:
    clients = build_clients()
    try:
        target = await HubSource(clients, hub.url).resolve(load_catalog(env={}).get(TI2V))
        assert target.files
    finally:
        await clients.aclose()


async def test_a_client_first_asked_for_after_closing_is_refused_not_built() -> None:
    clients = build_clients()
    await clients.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        _ = clients.bodies
