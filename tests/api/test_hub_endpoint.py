"""The Hub endpoint for plain clients: the real huggingface_hub client against a real
service whose store holds ti2v-5b, pulled from the local hub."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from modelward.api.routes.hubproto import HUB_MOUNT
from modelward.devhub.manifest import RepoManifest
from modelward.runtime import Runtime
from modelward.store.layout import RepoLayout
from modelward.store.served import open_verified, served_revision
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V, TI2V_REPO, make_settings

SHARD = "transformer/diffusion_pytorch_model-00002-of-00003.safetensors"
CONFIG = "transformer/config.json"


@pytest.fixture(autouse=True)
def _hf_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The client keeps its own cache and never reads the developer's token or settings.
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "client_hf_home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def pulled(live: LiveService) -> str:
    """Pull ti2v-5b into the service's store; its Hub endpoint's URL."""
    response = live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH)
    assert response.status_code == 202, response.text
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed", timeout_s=60)
    return str(live.client.base_url).rstrip("/") + HUB_MOUNT


@pytest.fixture
def node(start_service: StartService) -> tuple[LiveService, str]:
    """A service holding ti2v-5b, verified, and its endpoint's URL."""
    live = start_service()
    return live, pulled(live)


def manifest(live: LiveService) -> RepoManifest:
    """What the local hub published for the model."""
    return live.hub.manifest(TI2V_REPO)


def write_in_place(blob: Path, offset: int) -> None:
    """Change one byte of ``blob`` in place: same size, same inode, a new mtime."""
    time.sleep(0.02)  # past the clock tick of its last write, which a stat could not tell apart
    fd = os.open(blob, os.O_WRONLY)
    try:
        os.pwrite(fd, b"\x00", offset)
    finally:
        os.close(fd)


def blob_of(live: LiveService, path: str) -> Path:
    """The node's blob of ``path``."""
    return live.runtime.manager.repo_layout(TI2V_REPO).blob_path(manifest(live).file(path).etag)


def raw_get(endpoint: str, target: str) -> bytes:
    """The status line and headers of a GET of ``endpoint/target``, sent byte for byte."""
    url = httpx.URL(endpoint)
    with socket.create_connection((url.host, url.port or 80), timeout=10) as sock:
        sock.sendall(f"GET {url.path}/{target} HTTP/1.1\r\nHost: {url.host}\r\n".encode())
        sock.sendall(b"Connection: close\r\n\r\n")
        return sock.recv(65536)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snapshot_download_gets_the_node_s_verified_files(
    node: tuple[LiveService, str], tmp_path: Path
) -> None:
    live, endpoint = node
    published = manifest(live)
    live.hub.clear_log()
    folder = Path(
        snapshot_download(TI2V_REPO, endpoint=endpoint, cache_dir=tmp_path / "c", token=False)
    )
    assert live.hub.request_log == [], "the client's download reached the hub, not the node"
    assert folder.name == published.commit
    for entry in published.files:
        assert _sha256(folder / entry.path) == entry.content_sha256, entry.path
    blobs = {p.name for p in (folder.parents[1] / "blobs").iterdir()}
    assert blobs == {f.etag for f in published.files}  # the client names blobs by our ETags


def test_hf_hub_download_and_model_info_match_the_hub(
    node: tuple[LiveService, str], tmp_path: Path
) -> None:
    live, endpoint = node
    published = manifest(live)
    for path in (SHARD, CONFIG):
        got = Path(hf_hub_download(TI2V_REPO, path, endpoint=endpoint, cache_dir=tmp_path / "c"))
        assert _sha256(got) == published.file(path).content_sha256
        assert got.parent.parent.name == published.commit
    ours = HfApi(endpoint=endpoint).model_info(TI2V_REPO, files_metadata=True)
    theirs = HfApi(endpoint=live.hub.url).model_info(TI2V_REPO, files_metadata=True)
    assert ours.sha == theirs.sha == published.commit
    assert ours.id == TI2V_REPO
    key = lambda s: s.rfilename  # noqa: E731
    assert sorted(ours.siblings or [], key=key) == sorted(theirs.siblings or [], key=key)
    pinned = HfApi(endpoint=endpoint).model_info(TI2V_REPO, revision=published.commit)
    assert {s.rfilename for s in pinned.siblings or []} == {f.path for f in published.files}
    assert all(s.size is None and s.lfs is None for s in pinned.siblings or [])  # no ?blobs
    tree = HfApi(endpoint=endpoint).list_repo_tree(TI2V_REPO, "transformer")
    assert {e.path for e in tree} == {
        f.path for f in published.files if f.path.startswith("transformer/")
    }


def test_resolve_headers_ranges_and_416(node: tuple[LiveService, str]) -> None:
    live, endpoint = node
    published = manifest(live)
    shard, config = published.file(SHARD), published.file(CONFIG)
    url = f"{endpoint}/{TI2V_REPO}/resolve/main/{SHARD}"
    with httpx.Client(timeout=10) as client:
        head = client.head(url)
        assert head.status_code == 200
        assert head.headers["etag"] == f'"{shard.sha256}"'
        assert head.headers["x-linked-etag"] == f'"{shard.sha256}"'
        assert head.headers["x-linked-size"] == str(shard.size)
        assert head.headers["content-length"] == str(shard.size)
        assert head.headers["x-repo-commit"] == published.commit
        assert head.headers["accept-ranges"] == "bytes"
        assert head.content == b""
        whole = shard.local_path.read_bytes()
        part = client.get(url, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-1099/{shard.size}"
        assert part.content == whole[100:1100]
        tail = client.get(url, headers={"Range": "bytes=-7"})
        assert tail.status_code == 206 and tail.content == whole[-7:]
        stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
        assert stale.status_code == 200 and stale.content == whole
        past = client.get(url, headers={"Range": f"bytes={shard.size}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{shard.size}"
        plain = client.head(f"{endpoint}/{TI2V_REPO}/resolve/{published.commit}/{CONFIG}")
        assert plain.headers["etag"] == f'"{config.git_oid}"'
        assert "x-linked-etag" not in plain.headers


def test_a_tampered_or_missing_blob_is_not_served(
    node: tuple[LiveService, str], tmp_path: Path
) -> None:
    live, endpoint = node
    blob = blob_of(live, SHARD)
    write_in_place(blob, 1000)
    with pytest.raises(EntryNotFoundError, match="changed on this node since it was verified"):
        hf_hub_download(TI2V_REPO, SHARD, endpoint=endpoint, cache_dir=tmp_path / "c")
    refused = httpx.get(f"{endpoint}/{TI2V_REPO}/resolve/main/{SHARD}")
    assert refused.status_code == 404 and refused.headers["x-error-code"] == "EntryNotFound"
    body = refused.json()
    assert body["code"] == "store-corrupt-entry" and "repair" in body["hint"]
    with pytest.raises(EntryNotFoundError):
        snapshot_download(TI2V_REPO, endpoint=endpoint, cache_dir=tmp_path / "s")
    blob_of(live, CONFIG).unlink()
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(TI2V_REPO, CONFIG, endpoint=endpoint, cache_dir=tmp_path / "c")
    listed = HfApi(endpoint=endpoint).model_info(TI2V_REPO)
    assert CONFIG in {s.rfilename for s in listed.siblings or []}  # listed, so loudly missing


def test_unknown_repo_revision_and_file_raise_the_hub_s_errors(
    node: tuple[LiveService, str], tmp_path: Path
) -> None:
    _, endpoint = node
    api = HfApi(endpoint=endpoint)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("Wan-AI/not-here")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("Wan-AI/not-here", CONFIG, endpoint=endpoint, cache_dir=tmp_path / "c")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(TI2V_REPO, revision="v9")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(TI2V_REPO, CONFIG, revision="0" * 40, endpoint=endpoint)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(TI2V_REPO, "nope.bin", endpoint=endpoint, cache_dir=tmp_path / "c")
    # Sent as written (an HTTP client would remove the dot segments first).
    for target in (
        f"{TI2V_REPO}/resolve/main/transformer/../model_index.json",
        f"{TI2V_REPO}/resolve/main/../../../../etc/passwd",
        "Wan-AI/../../etc/resolve/main/passwd",
        f"{TI2V_REPO}/resolve/..%2F..%2Frefs/model_index.json",
    ):
        assert raw_get(endpoint, target).startswith(b"HTTP/1.1 404 "), target
    assert httpx.post(f"{endpoint}/api/models/{TI2V_REPO}", headers=AUTH).status_code == 405


def test_hf_endpoint_and_a_read_token_as_hf_token(
    start_service: StartService, tmp_path: Path
) -> None:
    """A plain client configured only by its environment, as on another machine: the
    service requires read tokens, and a modelward read token given as HF_TOKEN works."""
    live = start_service(read_token_required=True)
    live.client.headers.update(AUTH)  # the test's own reads of progress
    endpoint = pulled(live)
    token = live.app.state.tokens.create("gpu-7", "read")
    script = (
        "import sys; from huggingface_hub import snapshot_download, errors\n"
        "try: print(snapshot_download(sys.argv[1]))\n"
        "except errors.HfHubHTTPError as e: sys.exit(f'refused {e.response.status_code}: {e}')\n"
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(tmp_path / "gpu7"),
    }
    for name in ("HF_TOKEN", "HF_HUB_DISABLE_XET"):  # the client's defaults, hf_xet installed
        env.pop(name, None)
    without = subprocess.run(
        [sys.executable, "-c", script, TI2V_REPO],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert without.returncode != 0 and "refused 401" in without.stderr, without.stderr[-1500:]
    assert "HF_TOKEN" in without.stderr  # the hint speaks to a Hub client
    info = f"{endpoint}/api/models/{TI2V_REPO}"
    wrong = httpx.get(info, headers={"Authorization": "Bearer mw_wrong"})
    assert wrong.status_code == 401
    assert wrong.headers["x-error-message"] == "Invalid credentials in Authorization header"
    assert httpx.get(info, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    done = subprocess.run(
        [sys.executable, "-c", script, TI2V_REPO],
        env={**env, "HF_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1])
    published = manifest(live)
    assert folder.name == published.commit
    assert all(_sha256(folder / f.path) == f.content_sha256 for f in published.files)


def test_another_modelward_node_pulls_from_the_endpoint(
    node: tuple[LiveService, str], tmp_path: Path
) -> None:
    """What sources/hub.py reads is what the endpoint states: a second node pulls the
    model from the first one, verified, and the hub is not asked for anything."""
    first, endpoint = node
    first.hub.clear_log()
    settings = make_settings(tmp_path / "second", endpoint)

    async def pull() -> None:
        async with Runtime(settings) as second:
            result = await second.downloader.download_with_retry(TI2V)
            assert result.success and result.integrity_verified, result.error_message

    asyncio.run(pull())
    assert first.hub.request_log == []
    published = manifest(first)
    snapshot = RepoLayout(settings.cache_dir, settings.home, TI2V_REPO).snapshot_dir(
        published.commit
    )
    assert all(_sha256(snapshot / f.path) == f.content_sha256 for f in published.files)


def test_an_open_blob_notices_a_write_in_place(node: tuple[LiveService, str]) -> None:
    """The check each streamed chunk passes: a blob written to after it was opened (and
    verified) is no longer what was verified, so the rest of the answer is cut off."""
    live, _ = node
    manager = live.runtime.manager
    served = served_revision(manager, TI2V_REPO, "main")
    blob = open_verified(manager, served, SHARD)
    try:
        assert blob.unchanged() and blob.read(0, 8) == blob_of(live, SHARD).read_bytes()[:8]
        write_in_place(blob_of(live, SHARD), 5)
        assert not blob.unchanged()
    finally:
        blob.close()
