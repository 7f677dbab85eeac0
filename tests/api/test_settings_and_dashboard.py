"""Settings changed while the service runs, kept for later starts; the dashboard's files
and its client-side routes served at ``/``."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from modelward.api.web import mount_dashboard
from modelward.runtime import Runtime
from tests.api.conftest import AUTH, StartService


def test_settings_change_live_and_are_kept(start_service: StartService, tmp_path: Path) -> None:
    live = start_service()
    api = live.client
    before = api.get("/api/v1/settings").json()
    assert before["automation"] == "ask" and before["read_only"]["version"]
    assert before["read_only"]["endpoint"] == live.hub.url
    change = {"automation": "auto", "health_check_interval_s": 7200, "vram_gb": 24}
    assert api.patch("/api/v1/settings", json=change).status_code == 401
    after = api.patch("/api/v1/settings", json=change, headers=AUTH).json()
    assert after["automation"] == "auto" and after["health_check_interval_s"] == 7200
    runtime = live.runtime
    assert runtime.health.policy.automation == "auto"
    assert runtime.health.policy.interval_s == 7200 and runtime.fallback.vram.free_gb() == 24
    kept = json.loads((runtime.settings.home / "settings.json").read_text())
    assert kept == change
    back = api.patch("/api/v1/settings", json={"vram_gb": None}, headers=AUTH).json()
    assert back["vram_gb"] is None and back["automation"] == "auto"

    bad = api.patch("/api/v1/settings", json={"automation": "sometimes"}, headers=AUTH)
    assert bad.status_code == 422 and "automation" in bad.json()["message"]
    fixed = api.patch("/api/v1/settings", json={"cache_dir": "/elsewhere"}, headers=AUTH)
    assert fixed.status_code == 422 and fixed.json()["code"] == "request-invalid"


async def test_kept_settings_apply_at_the_next_start(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    async with Runtime(settings) as runtime:
        await runtime.change_settings({"update_policy": "ask", "low_space_bytes": 123})
    async with Runtime(settings) as runtime:
        assert runtime.settings.update_policy == "ask" and runtime.storage.low_space_bytes == 123
    (settings.home / "settings.json").write_text('{"automation": "sometimes"}')
    async with Runtime(settings) as runtime:  # a bad kept value never stops a start
        assert runtime.settings.automation == "ask"


def test_the_dashboard_and_its_routes_are_served(tmp_path: Path) -> None:
    app = FastAPI()
    mount_dashboard(app, root=tmp_path / "missing")
    with TestClient(app) as client:
        assert "not built" in client.get("/").text
    root = tmp_path / "webui"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>modelward</title>")
    (root / "assets" / "app-1234.js").write_text("console.log(1)")
    app = FastAPI()
    mount_dashboard(app, root=root)
    with TestClient(app) as client:
        index = client.get("/")
        assert index.text.startswith("<!doctype html>")
        assert "default-src 'self'" in index.headers["content-security-policy"]
        assert client.get("/downloads").text.startswith("<!doctype html>")  # client route
        asset = client.get("/assets/app-1234.js")
        assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
        missing = client.get("/api/v1/nope")
        assert missing.status_code == 404 and missing.json()["code"] == "not-found"
        assert client.get("/../../etc/passwd").text.startswith("<!doctype html>")
