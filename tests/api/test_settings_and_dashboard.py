"""Settings changed while the service runs, kept for later starts; the dashboard's files
and its client-side routes served at ``/``."""

from __future__ import annotations

import json
import re
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


def test_the_api_docs_load_everything_from_this_service(start_service: StartService) -> None:
    api = start_service().client
    assert "SwaggerUIBundle" in api.get("/docs/assets/swagger-ui-bundle.js").text
    for page, needs in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        answer = api.get(page)
        assert answer.status_code == 200 and needs in answer.text
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy
        assert "http" not in policy  # no other origin is allowed
        html = answer.text
        assert "http://" not in html and "https://" not in html and "<script>" not in html
        refs = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', html)
        assert len(refs) >= 3
        for ref in refs:  # every file the page names is local and served
            assert ref.startswith("/") and not ref.startswith("//"), ref
            served = api.get(ref)
            assert served.status_code == 200 and served.content, ref
    unknown = api.get("/docs/assets/elsewhere.js")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not-found"


# Each of the service's enums the dashboard shows, and the table of web/src/labels.ts that
# writes its values for people (the API sends some of them as plain strings, so the
# generated schema cannot check these).
_LABELLED = {
    "availability": "modelward.status:ModelAvailabilityStatus",
    "downloadStatus": "modelward.transfer.progress:DownloadStatus",
    "priority": "modelward.transfer.queue:Priority",
    "errorCategory": "modelward.availability.strategy:ErrorCategory",
    "strategyType": "modelward.availability.strategy:FallbackType",
    "qualityDifference": "modelward.availability.requirements:QualityDifference",
    "healthCondition": "modelward.health.report:HealthCondition",
    "severity": "modelward.health.report:Severity",
    "issueKind": "modelward.health.issues:IssueKind",
    "performanceStatus": "modelward.health.performance:PerformanceStatus",
    "verifyLevel": "modelward.health.checker:VerifyLevel",
    "requestState": "modelward.availability.requests:RequestState",
    "recoveryAction": "modelward.availability.recovery:RecoveryAction",
    "updateState": "modelward.updates.record:UpdateState",
    "updatePolicy": "modelward.updates.record:UpdatePolicy",
    "adoptOutcome": "modelward.store.adopt:AdoptOutcome",
    "adoptMode": "modelward.store.adopt:AdoptMode",
    "action": "modelward.actions:Action",
}


def _label_tables() -> dict[str, set[str]]:
    text = (Path(__file__).parents[2] / "web" / "src" / "labels.ts").read_text()
    tables: dict[str, set[str]] = {}
    for match in re.finditer(r"^const (\w+) = \{(.*?)\}(?: satisfies|;)", text, re.M | re.S):
        tables[match[1]] = set(re.findall(r'"?([\w-]+)"?\s*:\s*"', match[2]))
    return tables


def test_the_dashboard_has_words_for_every_value_of_the_enums_it_shows() -> None:
    import importlib

    tables = _label_tables()
    assert tables["qualityDifference"] >= {"slightly_lower"}  # the reader finds the tables
    for table, where in _LABELLED.items():
        module, name = where.split(":")
        enum = getattr(importlib.import_module(module), name)
        missing = {member.value for member in enum} - tables[table]
        assert not missing, f"web/src/labels.ts {table} has no words for {sorted(missing)}"
