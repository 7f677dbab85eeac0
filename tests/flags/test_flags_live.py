"""Feature flags while the service runs: switched by PATCH /settings at once, shown by
/healthz, the health report and the status commands; set from the environment."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modelward.cli.app import app
from modelward.cli.discovery import write_service_info
from modelward.runtime import Runtime
from modelward.settings import FEATURES, Settings
from modelward.transfer.fetch import HASH_READ_BYTES
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"


def test_a_patch_switches_a_feature_at_once_and_the_status_says_so(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    before = api.get("/api/v1/settings").json()
    assert before["features"] == dict.fromkeys(FEATURES, True)
    assert api.get("/healthz").json()["features_off"] == []

    change = {"features": {"request_queueing": False, "retries": False}}
    after = api.patch("/api/v1/settings", json=change, headers=AUTH).json()
    assert after["features"] == dict.fromkeys(FEATURES, True) | change["features"]
    assert live.runtime.downloader.max_retries == 0 and not live.runtime.fallback.features.queueing
    assert api.get("/healthz").json()["features_off"] == ["retries", "request_queueing"]
    assert api.get("/api/v1/health").json()["features_off"] == ["retries", "request_queueing"]
    kept = json.loads((live.runtime.settings.home / "settings.json").read_text())
    assert kept == {"feature_retries": False, "feature_request_queueing": False}

    # A job for a model that must be fetched first asks to be queued: a clear refusal.
    job = {"model_id": T2V, "prompt": "a cat", "queue": True}
    refused = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "feature-off" and "queueing" in refused.json()["message"]

    # A partial change leaves the other switches as they are; null changes nothing.
    again = {"features": {"retries": True, "mock_fallback": None}}
    now = api.patch("/api/v1/settings", json=again, headers=AUTH).json()["features"]
    assert now["retries"] and not now["request_queueing"] and now["mock_fallback"]
    assert api.get("/healthz").json()["features_off"] == ["request_queueing"]
    bad = api.patch("/api/v1/settings", json={"features": {"teleport": False}}, headers=AUTH)
    assert bad.status_code == 422


async def test_the_environment_switches_features_off(tmp_path: Path) -> None:
    env = {
        "HF_HUB_CACHE": str(tmp_path / "cache"),
        "MODELWARD_HOME": str(tmp_path / "home"),
        "MODELWARD_FEATURES_OFF": "mock_fallback,segmented_transfer",
        "MODELWARD_FEATURE_RETRIES": "0",
    }
    settings = Settings.from_env(env)
    assert settings.features_off == ["retries", "segmented_transfer", "mock_fallback"]
    async with Runtime(settings) as runtime:
        assert runtime.downloader.max_retries == 0
        assert not runtime.fallback.features.mock and runtime.fallback.features.queueing
        # One connection per file: the hasher trails it, so a wait adds little hashing.
        assert runtime.fallback.unhashed_tail_bytes == HASH_READ_BYTES
        await runtime.change_settings({"feature_segmented_transfer": True})
        segments = settings.connections_per_file * settings.segment_bytes
        assert runtime.fallback.unhashed_tail_bytes == segments
        # A change kept from a running service wins over the environment, as for every
        # editable setting.
        await runtime.change_settings({"feature_mock_fallback": True})
    async with Runtime(settings) as runtime:
        assert runtime.settings.features_off == ["retries"]


def test_the_status_commands_name_the_features_off(start_service: StartService) -> None:
    live = start_service(feature_update_checks=False)
    home = live.runtime.settings.home
    env = {
        "MODELWARD_HOME": str(home),
        "HF_HUB_CACHE": str(live.runtime.settings.cache_dir),
        "HF_ENDPOINT": live.hub.url,
        "COLUMNS": "200",
    }
    cli = CliRunner()
    # No service registered: the line comes from the environment and the kept settings.
    alone = cli.invoke(
        app, ["status", "--offline", TI2V], env=env | {"MODELWARD_FEATURES_OFF": "retries"}
    )
    assert alone.exit_code == 0, alone.output
    assert "features off: retries" in alone.output

    write_service_info(home, str(live.client.base_url))  # as `modelward serve` does
    shown = cli.invoke(app, ["service", "status"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "features off: update_checks" in shown.output
    record = json.loads(cli.invoke(app, ["service", "status", "--json"], env=env).output)
    assert record["features_off"] == ["update_checks"]
    assert "features off: update_checks" in cli.invoke(app, ["status", TI2V], env=env).output

    on = {"features": {"update_checks": True}}
    assert live.client.patch("/api/v1/settings", json=on, headers=AUTH).status_code == 200
    assert "features off" not in cli.invoke(app, ["service", "status"], env=env).output
