"""Each fault of the menu does what it says on the wire, and the log shows what was sent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from modelward.devhub import DevHub, Fault, FaultPlan, ManifestFile

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
SHARD = "transformer/diffusion_pytorch_model-00001-of-00003.safetensors"


@pytest.fixture
async def client(hub: DevHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hub.url, timeout=5) as c:
        yield c


@pytest.fixture
def shard(hub: DevHub) -> ManifestFile:
    return hub.manifest(REPO).file(SHARD)


def _cdn(entry: ManifestFile) -> str:
    return f"/cdn-lfs/{entry.sha256}?repo={REPO}&file={entry.path}"


def _last_get(hub: DevHub) -> int:
    return [r.bytes_sent for r in hub.request_log if r.method == "GET"][-1]


async def test_rate_cap(hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile) -> None:
    hub.set_faults([Fault.rate(4_000_000, path_glob="*.safetensors")])
    started = time.monotonic()
    resp = await client.get(_cdn(shard))
    elapsed = time.monotonic() - started
    assert resp.content == shard.local_path.read_bytes()
    assert shard.size / 4_000_000 * 0.9 <= elapsed < shard.size / 4_000_000 * 3
    started = time.monotonic()
    await client.get(f"/{REPO}/resolve/main/README.md")
    assert time.monotonic() - started < 0.2


@pytest.mark.parametrize("kind", ["drop", "short"])
async def test_cut_after_bytes(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile, kind: str
) -> None:
    hub.set_faults([Fault(kind, after_bytes=300_000, times=1)])  # type: ignore[arg-type]
    with pytest.raises(httpx.TransportError):
        await client.get(_cdn(shard))
    log = hub.request_log[-1]
    assert log.bytes_sent == 300_000 and log.faults == (kind,) and log.status == 200
    assert (await client.get(_cdn(shard))).content == shard.local_path.read_bytes()


@pytest.mark.parametrize("reset", [False, True])
async def test_client_receives_bytes_before_cut(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile, reset: bool
) -> None:
    hub.set_faults([Fault.drop(after_bytes=200_000, times=1, reset=reset)])
    received = bytearray()
    with pytest.raises(httpx.TransportError):
        async with client.stream("GET", _cdn(shard)) as resp:
            async for chunk in resp.aiter_raw():
                received.extend(chunk)
    assert bytes(received) == shard.local_path.read_bytes()[:200_000]


async def test_stall_then_resume(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile
) -> None:
    hub.set_faults([Fault.stall(after_bytes=100_000, stall_s=0.3, times=1)])
    started = time.monotonic()
    resp = await client.get(_cdn(shard))
    assert time.monotonic() - started >= 0.3
    assert resp.content == shard.local_path.read_bytes()


async def test_stall_forever_hits_read_timeout(hub: DevHub, shard: ManifestFile) -> None:
    hub.set_faults([Fault.stall(after_bytes=100_000)])
    async with httpx.AsyncClient(base_url=hub.url, timeout=0.3) as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.get(_cdn(shard))


async def test_corrupt_bytes(hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile) -> None:
    data = shard.local_path.read_bytes()
    hub.set_faults([Fault.corrupt(500_000, 500_016, times=2)])
    bad = (await client.get(_cdn(shard))).content
    assert len(bad) == len(data) and bad != data
    diff = [i for i in range(len(data)) if bad[i] != data[i]]
    assert diff == list(range(500_000, 500_016))
    part = await client.get(_cdn(shard), headers={"Range": "bytes=500008-500099"})
    assert part.content[:8] == bytes(b ^ 0xFF for b in data[500_008:500_016])
    assert part.content[8:] == data[500_016:500_100]
    assert (await client.get(_cdn(shard))).content == data


@pytest.mark.parametrize("status", [500, 503, 429, 404, 401])
async def test_status_faults(hub: DevHub, client: httpx.AsyncClient, status: int) -> None:
    retry = 7 if status in (503, 429) else None
    hub.set_faults(
        [Fault.http_status(status, retry_after_s=retry, times=2, path_glob="*model_index.json")]
    )
    url = f"/{REPO}/resolve/main/model_index.json"
    for _ in range(2):
        resp = await client.get(url)
        assert resp.status_code == status
        assert resp.headers.get("retry-after") == (str(retry) if retry else None)
    assert (await client.get(f"/{REPO}/resolve/main/README.md")).status_code == 200
    assert (await client.get(url)).status_code == 200


async def test_probability_is_seeded(hub: DevHub, client: httpx.AsyncClient) -> None:
    async def pattern() -> list[int]:
        hub.set_faults(FaultPlan([Fault.http_status(500, probability=0.5)], seed=42))
        return [(await client.get(f"/api/models/{REPO}")).status_code for _ in range(20)]

    first = await pattern()
    assert 2 <= first.count(500) <= 18
    assert await pattern() == first


async def test_head_and_redirects_do_not_use_body_faults(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile
) -> None:
    hub.set_faults([Fault.drop(after_bytes=10, times=1, path_glob="*.safetensors")])
    redirect = await client.head(f"/{REPO}/resolve/main/{SHARD}")
    assert redirect.status_code == 302
    assert (await client.head(_cdn(shard))).status_code == 200
    with pytest.raises(httpx.TransportError):
        await client.get(redirect.headers["location"])


async def test_faults_compose(hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile) -> None:
    data = shard.local_path.read_bytes()
    hub.set_faults(
        [
            Fault.rate(20_000_000),
            Fault.corrupt(10, 11),
            Fault.short(after_bytes=400_000, methods=("GET",)),
        ]
    )
    received = bytearray()
    with pytest.raises(httpx.TransportError):
        async with client.stream("GET", _cdn(shard)) as resp:
            async for chunk in resp.aiter_raw():
                received.extend(chunk)
    assert len(received) == 400_000 and received[10] == data[10] ^ 0xFF
    assert received[11:] == data[11:400_000]
    assert set(hub.request_log[-1].faults) == {"rate", "corrupt", "short"}


async def test_log_records_requests(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile
) -> None:
    hub.clear_log()
    await client.get(_cdn(shard), headers={"Range": "bytes=0-1023"})
    await client.head(_cdn(shard))
    get, head = hub.request_log
    assert (get.method, get.status, get.range, get.bytes_sent) == ("GET", 206, "bytes=0-1023", 1024)
    assert get.query["file"] == SHARD and get.path == f"/cdn-lfs/{shard.sha256}"
    assert (head.method, head.status, head.bytes_sent) == ("HEAD", 200, 0)
    assert get.started_at <= head.started_at and get.duration_s >= 0
    assert _last_get(hub) == 1024


async def test_body_faults_count_only_when_they_change_the_body(
    hub: DevHub, client: httpx.AsyncClient, shard: ManifestFile
) -> None:
    data = shard.local_path.read_bytes()
    hub.set_faults(
        [Fault.corrupt(900_000, 900_004, times=1), Fault.drop(after_bytes=5_000, times=1)]
    )
    # A small range misses the corrupt bytes and ends before the cut: nothing fires.
    small = await client.get(_cdn(shard), headers={"Range": "bytes=0-999"})
    assert small.content == data[:1000] and hub.request_log[-1].faults == ()
    with pytest.raises(httpx.TransportError):
        await client.get(_cdn(shard), headers={"Range": "bytes=899000-"})
    assert set(hub.request_log[-1].faults) == {"corrupt", "drop"}
    assert (await client.get(_cdn(shard))).content == data
