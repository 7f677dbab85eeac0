"""Plain-URL catalog entries: pinned size and sha256, resumable, verified like hub files."""

from __future__ import annotations

from pathlib import Path

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from tests.conftest import TI2V_REPO, assert_store_invariants, make_settings, sha256_of

VAE = "vae/diffusion_pytorch_model.safetensors"


def _catalog_file(tmp_path: Path, hub: DevHub, sha256: str) -> Path:
    entry = hub.manifest(TI2V_REPO).file(VAE)
    path = tmp_path / "urls.toml"
    path.write_text(
        "[models.vae-only]\n"
        'source = "url"\n'
        'repo = "local/vae-only"\n'
        'revision = "main"\n'
        "[[models.vae-only.files]]\n"
        f'path = "{VAE}"\n'
        f'url = "{hub.url}/{TI2V_REPO}/resolve/main/{VAE}"\n'
        f"size_bytes = {entry.size}\n"
        f'sha256 = "{sha256}"\n'
    )
    return path


async def test_pinned_url_file_is_fetched_verified_and_resumed(tmp_path: Path, hub: DevHub) -> None:
    entry = hub.manifest(TI2V_REPO).file(VAE)
    catalog = load_catalog([_catalog_file(tmp_path, hub, entry.content_sha256)], env={})
    hub.set_faults(FaultPlan([Fault.drop(entry.size // 2, path_glob="*" + VAE, times=1)]))
    async with Runtime(make_settings(tmp_path, hub.url), catalog) as runtime:
        result = await runtime.downloader.download_with_retry("vae-only")
        assert result.success, result.error_message
        assert result.total_retries == 1
        layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, "local/vae-only")
        target = runtime.manager.known_target("vae-only")
        assert target is not None
        assert sha256_of(layout.snapshot_path(target.commit, target.files[0].path)) == (
            entry.content_sha256
        )
    ranged = [r for r in hub.request_log if r.range and not r.range.startswith("bytes=0-")]
    assert ranged, "the second attempt continues the file"
    assert_store_invariants(tmp_path / "cache")


async def test_a_wrong_pin_is_never_promoted(tmp_path: Path, hub: DevHub) -> None:
    catalog = load_catalog([_catalog_file(tmp_path, hub, "0" * 64)], env={})
    async with Runtime(make_settings(tmp_path, hub.url), catalog) as runtime:
        result = await runtime.downloader.download_with_retry("vae-only", max_retries=1)
    assert not result.success and result.error_code == "integrity-mismatch"
    layout = RepoLayout(tmp_path / "cache", tmp_path / "home", "local/vae-only")
    assert not layout.blob_path("0" * 64).exists()
    assert not layout.repo_dir.joinpath("snapshots").exists()
