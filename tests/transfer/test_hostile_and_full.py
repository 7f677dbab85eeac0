"""A full MODELWARD_HOME during a pull, and hostile answers from a hub (a real socket each)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.devhub.faults import HostileAnswer
from modelward.errors import HostileMetadataError
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources import HubSource, build_clients
from modelward.sources.http import MAX_METADATA_BYTES
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, small_disk


def _fill(disk: Path) -> Path:
    """Write to ``disk`` until it is full; return the filler file."""
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as fh:
        while True:
            fh.write(b"\0" * 4096)
    return filler


async def test_full_home_names_its_disk_and_the_pull_resumes_once_space_is_back(
    tmp_path: Path, hub: DevHub, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "home", "2m") as home:
        settings = make_settings(tmp_path, hub.url, home=home)
        hub.set_faults(FaultPlan([Fault.rate(300_000)]))
        async with Runtime(settings) as runtime:
            await runtime.downloader.start_download(TI2V)
            await asyncio.sleep(0.5)
            filler = _fill(home)
            result = await runtime.downloader.wait_for_completion(TI2V)
            assert not result.success and result.error_code == "insufficient-space"
            # The disk that is full is MODELWARD_HOME's, not the cache's.
            assert str(home) in (result.error_message or "")
            assert "MODELWARD_HOME" in (result.error_hint or "")
            assert "--cache-dir" not in (result.error_hint or "")
            # Nothing half-fetched was promoted.
            assert not list((settings.cache_dir).rglob("snapshots/*/*.safetensors"))
            assert_store_invariants(settings.cache_dir)
            # No traceback: every failure was an error with a message, none a lost task.
            assert not [r for r in caplog.records if r.exc_info], caplog.text
            os.unlink(filler)
            hub.clear_faults()
            again = await runtime.downloader.download_with_retry(TI2V)
        assert again.success, again.error_message
        # Resumed: what was on disk before the disk filled was not asked for again.
        assert again.bytes_fetched < hub.manifest(TI2V_REPO).total_size
        assert_store_invariants(settings.cache_dir)


# ---- hostile hubs ------------------------------------------------------------------------


async def test_metadata_nested_absurdly_deep_is_refused(hub: DevHub, runtime: Runtime) -> None:
    hub.set_faults([Fault.hostile("deep-json", 200_000, path_glob="/api/models/*")])
    result = await runtime.downloader.download_with_retry(TI2V)
    assert not result.success and result.error_code == "hostile-metadata"
    assert "nested absurdly deep" in (result.error_message or "") and result.error_hint
    assert not runtime.settings.cache_dir.exists() or not list(
        runtime.settings.cache_dir.rglob("*.incomplete")
    )


async def test_a_huge_metadata_answer_is_refused_before_it_is_read(
    hub: DevHub, runtime: Runtime
) -> None:
    size = 300_000_000
    hub.set_faults([Fault.hostile("huge-json", size, path_glob="/api/models/*")])
    result = await runtime.downloader.download_with_retry(TI2V)
    assert not result.success and result.error_code == "hostile-metadata"
    assert "larger than 64" in (result.error_message or "")
    await asyncio.sleep(0.2)  # the hub logs a request once its send has ended
    sent = [r.bytes_sent for r in hub.request_log if r.faults == ("hostile",)]
    # The client hung up at the headers: what got out is what the socket buffers took.
    assert sent and max(sent) < MAX_METADATA_BYTES // 4, sent


def _endless_json_server() -> tuple[socket.socket, list[int], threading.Thread]:
    """A server whose metadata answer has no length and never ends (sent until the client
    hangs up); the list gets how many body bytes went out."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                b'{"sha": "'
            )
            chunk, total = b" " * (1 << 20), 0
            with contextlib.suppress(OSError):
                while total < 1_000_000_000:
                    conn.sendall(chunk)
                    total += len(chunk)
            sent.append(total)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, sent, thread


async def test_an_endless_metadata_answer_is_cut_at_the_cap() -> None:
    listener, sent, thread = _endless_json_server()
    port = listener.getsockname()[1]
    clients = build_clients(read_timeout_s=5)
    try:
        source = HubSource(clients, f"http://127.0.0.1:{port}")
        with pytest.raises(HostileMetadataError, match="larger than 64"):
            await source.resolve(load_catalog(env={}).get(TI2V))
    finally:
        await clients.aclose()
        thread.join(10)
        listener.close()
    # Stopped at the cap (plus what the socket buffers held), not at the end of the answer.
    assert sent and sent[0] < MAX_METADATA_BYTES + 32_000_000, sent


@pytest.mark.parametrize("answer", ["html", "html-as-bytes"])
async def test_an_html_page_during_a_download_is_called_one(
    tmp_path: Path, hub: DevHub, answer: HostileAnswer
) -> None:
    # Small slow segments: each connection asks for a new range every ~0.6 s.
    settings = make_settings(tmp_path, hub.url, segment_bytes=65_536)
    hub.set_faults([Fault.rate(100_000)])
    async with Runtime(settings) as runtime:
        await runtime.downloader.start_download(TI2V)
        while not (await runtime.downloader.get_download_progress(TI2V)).downloaded_bytes:
            await asyncio.sleep(0.02)
        # From now on the CDN answers every request with an error page and a 200.
        hub.set_faults([Fault.rate(100_000), Fault.hostile(answer, path_glob="/cdn-lfs/*")])
        result = await runtime.downloader.wait_for_completion(TI2V)
    assert not result.success and result.error_code == "protocol-violation"
    message = result.error_message or ""
    assert "HTML page instead of the file" in message and "ignores byte ranges" not in message
    assert_store_invariants(settings.cache_dir)


async def test_the_stall_timeout_is_the_setting(tmp_path: Path, hub: DevHub) -> None:
    # read_timeout_s stays long: only the stall setting may cut the silent connection.
    settings = make_settings(tmp_path, hub.url, stall_timeout_s=1.0, read_timeout_s=30.0)
    hub.set_faults([Fault.stall(100_000, None, path_glob="/cdn-lfs/*", times=1)])
    started = time.monotonic()
    async with Runtime(settings) as runtime:
        result = await runtime.downloader.download_with_retry(TI2V)
    elapsed = time.monotonic() - started
    assert result.success and result.total_retries >= 1, result.error_message
    # Cut after the 1 s of silence, not after read_timeout_s's 30.
    assert 1.0 <= elapsed < 10, elapsed


def test_the_stall_timeout_comes_from_the_environment() -> None:
    env = {"MODELWARD_STALL_TIMEOUT": "1.5", "MODELWARD_HOME": "/tmp/x"}
    assert Settings.from_env(env).stall_timeout_s == 1.5


def test_hostile_faults_travel_as_json_like_the_others() -> None:
    fault = Fault.hostile("huge-json", 1000, path_glob="/api/*", times=1)
    assert Fault.from_dict(fault.to_dict()) == fault
    with pytest.raises(ValueError, match="hostile answer"):
        Fault.from_dict({**fault.to_dict(), "answer": "nonsense"})
