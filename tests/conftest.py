"""Shared fixtures: the local hub on a real socket, and settings pointing at it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelward.devhub import DevHub, Manners
from modelward.runtime import Runtime
from modelward.settings import Settings
from tests.pg import postgres, postgres_url  # noqa: F401  (a real PostgreSQL: tests/pg.py)
from tests.s3 import s3_bucket, s3_server  # noqa: F401  (a real S3 server: tests/s3.py)

TI2V = "ti2v-5b"
TI2V_REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"

WAN = Manners(tls=True, rtt_s=0.02, cdn_url_ttl_s=60)
"""The real Hub's manners that matter to transfers: HTTPS on the hub and a separate CDN
host, a round trip charged per connection and per request, signed CDN URLs that expire."""
HUB_MANNERS = {"plain": Manners(), "wan": WAN}
over_https = pytest.mark.parametrize("hub_manners", ["plain", "wan"], indirect=True)
"""Run a test against the plain hub and again against the hub with the ``WAN`` manners."""


@pytest.fixture(autouse=True)
def _no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in the suite may talk to huggingface.co or read the developer's HF setup.
    for name in (
        "HF_TOKEN",
        "HF_HOME",
        "HF_HUB_CACHE",
        "HF_ENDPOINT",
        "MODELWARD_HOME",
        "MODELWARD_CATALOG",
        "MODELWARD_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def hub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated repos, shared by the session (generation is deterministic)."""
    return tmp_path_factory.mktemp("devhub")


@pytest.fixture
def hub_manners(request: pytest.FixtureRequest) -> Manners:
    """The manners ``hub`` and ``threaded_hub`` show: none, unless a test parametrizes this
    fixture indirectly with a ``HUB_MANNERS`` name (``@over_https``)."""
    return HUB_MANNERS[getattr(request, "param", "plain")]


def trust_hub_ca(hub: DevHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make clients built from now on trust the hub's CA (``SSL_CERT_FILE``, which httpx
    reads with ``trust_env``); subprocesses given ``os.environ`` inherit it."""
    if hub.ca_path is not None:
        monkeypatch.setenv("SSL_CERT_FILE", str(hub.ca_path))


@contextlib.asynccontextmanager
async def serving(
    hub_root: Path, manners: Manners, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[DevHub]:
    """A local hub with ``manners`` on a free port, its CA trusted, for the ``async with``."""
    server = DevHub(root=hub_root, scale="tiny", manners=manners)
    await server.start()
    try:
        trust_hub_ca(server, monkeypatch)
        yield server
    finally:
        await server.stop()


@contextlib.contextmanager
def serving_in_thread(
    hub_root: Path, manners: Manners, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DevHub]:
    """``serving`` on the hub's own thread, for subprocesses and sync clients."""
    with DevHub(root=hub_root, scale="tiny", manners=manners).running_in_thread() as server:
        trust_hub_ca(server, monkeypatch)
        yield server


@pytest.fixture
async def hub(
    hub_root: Path, hub_manners: Manners, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[DevHub]:
    """A local hub serving tiny Wan2.2-shaped repos on a free port."""
    async with serving(hub_root, hub_manners, monkeypatch) as server:
        yield server


@pytest.fixture
def threaded_hub(
    hub_root: Path, hub_manners: Manners, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DevHub]:
    """The local hub in its own thread, for tests that run subprocesses or sync clients."""
    with serving_in_thread(hub_root, hub_manners, monkeypatch) as server:
        yield server


@pytest.fixture
async def wan_hub(hub_root: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DevHub]:
    """The local hub with the ``WAN`` manners, its CA trusted through ``SSL_CERT_FILE``."""
    async with serving(hub_root, WAN, monkeypatch) as server:
        yield server


@pytest.fixture
def wan_threaded_hub(hub_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevHub]:
    """``wan_hub`` in its own thread, for tests that run subprocesses or sync clients."""
    with serving_in_thread(hub_root, WAN, monkeypatch) as server:
        yield server


def make_settings(tmp_path: Path, endpoint: str, **overrides: object) -> Settings:
    """Settings for one test: its own store and home, fast retries, short stall timeout."""
    values: dict[str, object] = {
        "cache_dir": tmp_path / "cache",
        "home": tmp_path / "home",
        "endpoint": endpoint,
        "retry_base_delay_s": 0.01,
        "retry_max_delay_s": 0.1,
        "read_timeout_s": 2.0,
        "stall_timeout_s": 2.0,
        "api_token": "test-token",
        "segment_bytes": 256 * 1024,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path, hub: DevHub) -> Settings:
    """Settings whose endpoint is the async ``hub``."""
    return make_settings(tmp_path, hub.url)


@pytest.fixture
def wan_settings(tmp_path: Path, wan_hub: DevHub) -> Settings:
    """Settings whose endpoint is ``wan_hub`` (HTTPS; its CA is trusted by then)."""
    return make_settings(tmp_path, wan_hub.url)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A wired modelward on the test's store."""
    async with Runtime(settings) as rt:
        yield rt


def hub_file_bytes(hub: DevHub) -> int:
    """Bytes of files the hub (and its CDN) sent: metadata calls and redirects are not."""
    return sum(
        r.bytes_sent
        for r in hub.request_log
        if r.status in (200, 206) and ("/resolve/" in r.path or r.host == "cdn")
    )


def sha256_of(path: Path) -> str:
    """sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_HEX = frozenset("0123456789abcdef")


def _blob_id_matches(blob: Path) -> bool:
    """Whether a blob's content hashes to its name (sha256 for LFS, git blob id otherwise)."""
    name = blob.name
    if not set(name) <= _HEX or len(name) not in (40, 64):
        return True  # not named after a hash: nothing to check
    digest = hashlib.sha256() if len(name) == 64 else hashlib.sha1()
    if len(name) == 40:
        digest.update(b"blob %d\0" % blob.stat().st_size)
    with blob.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == name


def assert_store_invariants(cache_dir: Path) -> None:
    """Every snapshot file resolves to a blob; no ref names a missing snapshot; every
    finished blob's content hashes to its name."""
    for repo in cache_dir.glob("models--*"):
        for blob in (repo / "blobs").glob("*"):
            if blob.name.endswith(".incomplete") or not blob.is_file():
                continue
            assert _blob_id_matches(blob), f"blob content does not match its name: {blob}"
        for ref in (repo / "refs").rglob("*"):
            if ref.is_file():
                assert (repo / "snapshots" / ref.read_text().strip()).is_dir(), ref
        for link in (repo / "snapshots").rglob("*"):
            if link.is_symlink():
                assert link.resolve().is_file(), f"dangling {link}"
                assert link.resolve().parent == (repo / "blobs").resolve()
                assert not link.resolve().name.endswith(".incomplete")
        for path in (repo / "snapshots").rglob("*"):
            assert path.is_dir() or path.is_symlink(), f"stray file {path}"
    assert os.path.isdir(cache_dir) or not cache_dir.exists()


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skips the test where mounting is not allowed)."""
    path.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
