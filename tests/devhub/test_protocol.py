"""The Hub protocol as served: metadata, tree, resolve, CDN ranges, errors, gating, commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from modelward.devhub import DevHub, ManifestFile
from modelward.devhub.routes import cdn_etag

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
SHARD = "transformer/diffusion_pytorch_model-00001-of-00003.safetensors"


@pytest.fixture
async def client(hub: DevHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hub.url) as c:
        yield c


def _resolve(repo: str, path: str, rev: str = "main") -> str:
    return f"/{repo}/resolve/{rev}/{path}"


async def test_model_info(hub: DevHub, client: httpx.AsyncClient) -> None:
    manifest = hub.manifest(REPO)
    for url in (
        f"/api/models/{REPO}",
        f"/api/models/{REPO}/revision/main",
        f"/api/models/{REPO}/revision/{manifest.commit}",
    ):
        resp = await client.get(url, params={"blobs": "true"})
        assert resp.status_code == 200
        info = resp.json()
        assert info["id"] == info["modelId"] == REPO and info["sha"] == manifest.commit
        assert info["gated"] is False and info["private"] is False and info["lastModified"]
        siblings = {s["rfilename"]: s for s in info["siblings"]}
        assert set(siblings) == {f.path for f in manifest.files}
        shard = manifest.file(SHARD)
        assert siblings[SHARD]["lfs"] == {
            "sha256": shard.sha256,
            "size": shard.size,
            "pointerSize": shard.pointer_size,
        }
        assert siblings["model_index.json"]["blobId"] == manifest.file("model_index.json").git_oid
        assert "lfs" not in siblings["model_index.json"]


async def test_tree(hub: DevHub, client: httpx.AsyncClient) -> None:
    manifest = hub.manifest(REPO)
    resp = await client.get(f"/api/models/{REPO}/tree/main", params={"recursive": "true"})
    files = {e["path"]: e for e in resp.json() if e["type"] == "file"}
    assert set(files) == {f.path for f in manifest.files}
    assert files[SHARD]["lfs"]["oid"] == manifest.file(SHARD).sha256
    top = (await client.get(f"/api/models/{REPO}/tree/main")).json()
    assert {e["path"] for e in top if e["type"] == "directory"} >= {"transformer", "vae"}
    assert all("/" not in e["path"] for e in top)
    sub = (await client.get(f"/api/models/{REPO}/tree/main/vae")).json()
    assert {e["path"] for e in sub} == {
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    }
    missing = await client.get(f"/api/models/{REPO}/tree/main/nope")
    assert missing.status_code == 404 and missing.headers["x-error-code"] == "EntryNotFound"


async def test_resolve_lfs_redirects_to_cdn(hub: DevHub, client: httpx.AsyncClient) -> None:
    shard = hub.manifest(REPO).file(SHARD)
    for method in ("HEAD", "GET"):
        resp = await client.request(method, _resolve(REPO, SHARD))
        assert resp.status_code == 302
        assert resp.headers["x-repo-commit"] == hub.manifest(REPO).commit
        assert resp.headers["x-linked-etag"] == f'"{shard.sha256}"'
        assert resp.headers["x-linked-size"] == str(shard.size)
        assert resp.headers["location"].startswith("http://")
        assert f"/cdn-lfs/{shard.sha256}" in resp.headers["location"]
        assert int(resp.headers["content-length"]) > 0
    cdn = await client.get(resp.headers["location"])
    assert cdn.status_code == 200 and cdn.content == shard.local_path.read_bytes()
    assert cdn.headers["etag"] == f'"{cdn_etag(shard.sha256)}"'
    assert cdn.headers["accept-ranges"] == "bytes"


async def test_resolve_regular_file(hub: DevHub, client: httpx.AsyncClient) -> None:
    entry = hub.manifest(REPO).file("model_index.json")
    head = await client.head(_resolve(REPO, "model_index.json"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == f'"{entry.git_oid}"'
    assert head.headers["content-length"] == str(entry.size)
    assert head.headers["x-repo-commit"] == hub.manifest(REPO).commit
    resp = await client.get(_resolve(REPO, "model_index.json"))
    assert resp.content == entry.local_path.read_bytes()
    part = await client.get(_resolve(REPO, "model_index.json"), headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == resp.content[:10]


def _cdn(hub: DevHub, entry: ManifestFile) -> str:
    return f"{hub.url}/cdn-lfs/{entry.sha256}"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, None),
        ("bytes=-500", -500, None),
        ("bytes=10-99999999", 10, None),
    ],
)
async def test_ranges(
    hub: DevHub, client: httpx.AsyncClient, header: str, start: int, end: int | None
) -> None:
    entry = hub.manifest(REPO).file(SHARD)
    data = entry.local_path.read_bytes()
    expected = data[start:] if end is None else data[start : end + 1]
    resp = await client.get(_cdn(hub, entry), headers={"Range": header})
    assert resp.status_code == 206 and resp.content == expected
    first = start % len(data)
    assert resp.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    )


async def test_unsatisfiable_and_if_range(hub: DevHub, client: httpx.AsyncClient) -> None:
    entry = hub.manifest(REPO).file(SHARD)
    bad = await client.get(_cdn(hub, entry), headers={"Range": f"bytes={entry.size}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{entry.size}"
    same = await client.get(
        _cdn(hub, entry),
        headers={"Range": "bytes=5-9", "If-Range": f'"{cdn_etag(entry.sha256)}"'},
    )
    assert same.status_code == 206 and len(same.content) == 5
    by_sha = await client.get(
        _cdn(hub, entry), headers={"Range": "bytes=5-9", "If-Range": f'"{entry.sha256}"'}
    )
    assert by_sha.status_code == 200, "the CDN's ETag is not the sha256, as on the real Hub"
    other = await client.get(
        _cdn(hub, entry), headers={"Range": "bytes=5-9", "If-Range": '"stale"'}
    )
    assert other.status_code == 200 and len(other.content) == entry.size


async def test_keep_alive_reuses_connection(hub: DevHub, client: httpx.AsyncClient) -> None:
    hub.clear_log()
    for _ in range(3):
        await client.get(f"/api/models/{REPO}")
        await client.head(_resolve(REPO, "README.md"))
    assert len({r.connection_id for r in hub.request_log}) == 1
    assert len(hub.request_log) == 6


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/models/nobody/nothing", "RepoNotFound"),
        (f"/api/models/{REPO}/revision/nope", "RevisionNotFound"),
        ("/nobody/nothing/resolve/main/x.json", "RepoNotFound"),
        (f"/{REPO}/resolve/nope/model_index.json", "RevisionNotFound"),
        (f"/{REPO}/resolve/main/missing.bin", "EntryNotFound"),
    ],
)
async def test_not_found(client: httpx.AsyncClient, url: str, code: str) -> None:
    resp = await client.get(url)
    assert resp.status_code == 404 and resp.headers["x-error-code"] == code
    assert "error" in resp.json()


async def test_gated_repo(hub_root: Path) -> None:
    async with (
        DevHub(root=hub_root, gated={REPO: "sesame"}) as gated,
        httpx.AsyncClient(base_url=gated.url) as c,
    ):
        for url in (f"/api/models/{REPO}", _resolve(REPO, "model_index.json")):
            anonymous = await c.get(url)
            assert anonymous.status_code == 401
            assert anonymous.headers["x-error-code"] == "GatedRepo"
            wrong = await c.get(url, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 403
            ok = await c.get(url, headers={"Authorization": "Bearer sesame"})
            assert ok.status_code == 200
        other = await c.get("/api/models/Wan-AI/Wan2.2-T2V-A14B-Diffusers")
        assert other.status_code == 200
        assert (
            await c.get(f"/api/models/{REPO}", headers={"Authorization": "Bearer sesame"})
        ).json()["gated"] == "manual"


async def test_bump_commit_serves_old_and_new(hub: DevHub, client: httpx.AsyncClient) -> None:
    old = hub.manifest(REPO)
    new_sha = hub.bump_commit(REPO)
    info = (await client.get(f"/api/models/{REPO}")).json()
    assert info["sha"] == new_sha != old.commit
    old_info = (await client.get(f"/api/models/{REPO}/revision/{old.commit}")).json()
    assert old_info["sha"] == old.commit
    head = await client.head(_resolve(REPO, "transformer/config.json", old.commit))
    assert head.headers["etag"] == f'"{old.file("transformer/config.json").git_oid}"'
    head = await client.head(_resolve(REPO, "transformer/config.json"))
    assert head.headers["x-repo-commit"] == new_sha
    assert head.headers["etag"] == f'"{hub.manifest(REPO).file("transformer/config.json").git_oid}"'


async def test_control_api(hub: DevHub, client: httpx.AsyncClient) -> None:
    assert (await client.get("/_devhub/health")).json() == {"ok": True}
    plan = {"faults": [{"kind": "status", "status": 503, "times": 1, "retry_after_s": 2}]}
    assert (await client.post("/_devhub/faults", json=plan)).status_code == 200
    assert (await client.get("/_devhub/faults")).json()["faults"][0]["remaining"] == 1
    failed = await client.get(f"/api/models/{REPO}")
    assert failed.status_code == 503 and failed.headers["retry-after"] == "2"
    assert (await client.get(f"/api/models/{REPO}")).status_code == 200
    assert (
        await client.post("/_devhub/faults", json={"faults": [{"kind": "x"}]})
    ).status_code == 400
    await client.delete("/_devhub/faults")
    assert hub.describe_faults() == []
    log = (await client.get("/_devhub/log")).json()
    assert [r["status"] for r in log if r["path"].startswith("/api/")] == [503, 200]
    assert not any(r["path"].startswith("/_devhub") for r in log)
    await client.delete("/_devhub/log")
    assert hub.request_log == []
    bumped = (await client.post(f"/_devhub/repos/{REPO}/bump")).json()["commit"]
    manifest = (await client.get(f"/_devhub/repos/{REPO}/manifest")).json()
    assert manifest["commit"] == bumped == hub.manifest(REPO).commit
    assert (await client.post("/_devhub/repos/no/body/bump")).status_code == 404
