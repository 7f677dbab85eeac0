"""HF_HUB_OFFLINE=1: nothing contacts a source; a complete model still "pulls"."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub
from modelward.errors import OfflineError
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources import build_clients, source_for
from modelward.transfer import DownloadResult
from tests.conftest import TI2V, assert_store_invariants

DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens there


def test_hf_hub_offline_is_read_as_huggingface_hub_reads_it(tmp_path: Path) -> None:
    base = {"MODELWARD_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "c")}
    for value, offline in (("1", True), ("true", True), ("ON", True), ("0", False), ("", False)):
        assert Settings.from_env({**base, "HF_HUB_OFFLINE": value}).offline is offline
    assert Settings.from_env(base).offline is False


async def test_the_offline_source_contacts_nothing(hub: DevHub) -> None:
    clients = build_clients()
    try:
        spec = load_catalog(env={}).get(TI2V)
        source = source_for(spec, clients, endpoint=hub.url, token=None, offline=True)
        with pytest.raises(OfflineError) as caught:
            await source.resolve(spec)
    finally:
        await clients.aclose()
    assert "HF_HUB_OFFLINE" in caught.value.message and "HF_HUB_OFFLINE" in caught.value.hint
    assert not caught.value.retryable
    assert hub.request_log == []


async def _pull(settings: Settings, model_id: str = TI2V) -> DownloadResult:
    async with Runtime(settings) as runtime:
        return await runtime.downloader.download_with_retry(model_id, 1)


async def test_a_complete_model_pulls_offline_without_a_request(
    hub: DevHub, settings: Settings
) -> None:
    online = await _pull(settings)
    assert online.success and not online.offline
    hub.clear_log()

    for endpoint in (hub.url, DEAD_ENDPOINT):
        result = await _pull(settings.with_changes(offline=True, endpoint=endpoint))
        assert result.success, result
        assert result.offline and result.bytes_fetched == 0
        assert result.speed_bytes_per_s is None
    assert hub.request_log == []
    assert_store_invariants(settings.cache_dir)


async def test_an_incomplete_model_offline_fails_saying_so(hub: DevHub, settings: Settings) -> None:
    assert (await _pull(settings)).success
    shard = next((settings.cache_dir).glob("models--*/snapshots/*/transformer/*.safetensors"))
    shard.resolve().unlink()
    hub.clear_log()

    result = await _pull(settings.with_changes(offline=True, endpoint=DEAD_ENDPOINT))
    assert not result.success
    assert result.error_code == "source-offline"
    assert "incomplete" in result.error_message
    assert "1 of" in result.error_message
    assert "HF_HUB_OFFLINE" in result.error_hint
    assert hub.request_log == []


async def test_a_model_never_resolved_offline_fails_saying_so(
    hub: DevHub, settings: Settings
) -> None:
    offline = settings.with_changes(offline=True)
    result = await _pull(offline)
    assert not result.success and result.error_code == "source-offline"
    assert "never resolved" in result.error_message
    async with Runtime(offline) as runtime:
        status = await runtime.availability.status(TI2V, resolve_remote=True)
    assert status.error_code == "source-offline"
    assert hub.request_log == []
