"""The real ``huggingface_hub`` client downloads from the local hub: proof of fidelity."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelward.devhub import DevHub

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"


@pytest.fixture(autouse=True)
def _hf_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No Xet headers are served, so plain HTTP is used anyway; these keep the client off the
    # network and away from the developer's token and cache.
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snapshot_download_and_scan(threaded_hub: DevHub, tmp_path: Path) -> None:
    hf = pytest.importorskip("huggingface_hub")
    manifest = threaded_hub.manifest(REPO)
    cache = tmp_path / "cache"
    folder = Path(
        hf.snapshot_download(REPO, endpoint=threaded_hub.url, cache_dir=cache, token=False)
    )
    assert folder.name == manifest.commit
    for entry in manifest.files:
        assert _sha256(folder / entry.path) == entry.content_sha256, entry.path
    blobs = {p.name for p in (folder.parents[1] / "blobs").iterdir()}
    assert {f.etag for f in manifest.files} == blobs
    info = hf.scan_cache_dir(cache)
    (repo,) = info.repos
    assert repo.repo_id == REPO and repo.size_on_disk == manifest.total_size
    assert [r.commit_hash for r in repo.revisions] == [manifest.commit]
    assert not info.warnings
    cdn_gets = [
        r for r in threaded_hub.request_log if r.method == "GET" and r.path.startswith("/cdn-lfs/")
    ]
    assert len(cdn_gets) == sum(f.is_lfs for f in manifest.files)


def test_hf_hub_download_new_commit_shares_blobs(threaded_hub: DevHub, tmp_path: Path) -> None:
    hf = pytest.importorskip("huggingface_hub")
    cache = tmp_path / "cache"
    shard = "transformer/diffusion_pytorch_model-00002-of-00003.safetensors"
    first = Path(
        hf.hf_hub_download(REPO, shard, endpoint=threaded_hub.url, cache_dir=cache, token=False)
    )
    assert _sha256(first) == threaded_hub.manifest(REPO).file(shard).sha256
    new_commit = threaded_hub.bump_commit(REPO)
    second = Path(
        hf.hf_hub_download(REPO, shard, endpoint=threaded_hub.url, cache_dir=cache, token=False)
    )
    assert second.parent.parent.name == new_commit
    assert first.resolve() == second.resolve()  # unchanged shard: one blob, two snapshots
    config = Path(
        hf.hf_hub_download(
            REPO, "transformer/config.json", endpoint=threaded_hub.url, cache_dir=cache, token=False
        )
    )
    assert b"_devhub_revision" in config.read_bytes()


def test_gated_repo_needs_token(hub_root: Path, tmp_path: Path) -> None:
    hf = pytest.importorskip("huggingface_hub")
    errors = pytest.importorskip("huggingface_hub.errors")
    with DevHub(root=hub_root, gated={REPO: "sesame"}).running_in_thread() as gated:
        with pytest.raises(errors.GatedRepoError):
            hf.hf_hub_download(
                REPO, "model_index.json", endpoint=gated.url, cache_dir=tmp_path / "a", token=False
            )
        path = hf.hf_hub_download(
            REPO, "model_index.json", endpoint=gated.url, cache_dir=tmp_path / "b", token="sesame"
        )
        assert (
            Path(path).read_bytes()
            == gated.manifest(REPO).file("model_index.json").local_path.read_bytes()
        )
