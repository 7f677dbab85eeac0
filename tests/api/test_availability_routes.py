"""Availability through a real service and the local hub: alternatives, strategies, waits,
demo generation, and a queued request that completes on its own."""

from __future__ import annotations

import time

from modelward.devhub import Fault
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"


def test_suggest_strategy_and_wait_routes(start_service: StartService) -> None:
    api = start_service().client
    suggestion = api.get(f"/api/v1/models/{T2V}/alternative?quality=high&speed=medium")
    assert suggestion.status_code == 200, suggestion.text
    body = suggestion.json()
    assert body["suggested_model"] == TI2V and body["compatibility_score"] > 0.7
    assert body["estimated_quality_difference"] == "slightly_lower"

    none = api.get(f"/api/v1/models/{T2V}/alternative?inputs=image&vram_gb=16")
    assert none.status_code == 404 and none.json()["code"] == "no-alternative"
    assert "needs at least" in none.json()["message"] and none.json()["hint"]
    bad = api.get(f"/api/v1/models/{T2V}/alternative?inputs=audio")
    assert bad.status_code == 422 and bad.json()["code"] == "request-invalid"

    strategy = api.get(f"/api/v1/models/{TI2V}/strategy").json()
    assert strategy["strategy_type"] == "download_and_retry"
    assert strategy["wait"]["seconds"] > 0 and strategy["steps"] == []
    wait = api.get(f"/api/v1/models/{TI2V}/wait").json()
    assert wait["reason"].startswith("paused") or wait["seconds"] > 0


def test_a_generate_for_a_missing_model_is_queued_and_completes_on_its_own(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    live.hub.set_faults([Fault.rate(3_000_000)])
    job = {"model_id": TI2V, "prompt": "waves", "requirements": {"quality": "medium"}}
    assert api.post("/api/v1/generate", json=job).status_code == 401
    queued = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert queued.status_code == 202, queued.text
    body = queued.json()
    assert body["state"] == "queued" and body["position"] == 0
    assert body["strategy"]["strategy_type"] == "download_and_retry"
    assert body["estimated_wait"]["seconds"] > 0
    request_id = body["request_id"]
    [listed] = api.get("/api/v1/requests").json()
    assert listed["request_id"] == request_id and listed["payload"]["prompt"] == "waves"
    live.hub.clear_faults()

    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/requests/{request_id}").json()["state"] != "released":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    ran = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert ran.status_code == 200, ran.text
    outcome = ran.json()
    assert outcome["used_model"] == TI2V and not outcome["is_mock"] and outcome["output_path"]
    assert api.get("/api/v1/requests/nope").status_code == 404


def test_an_alternative_runs_when_the_requested_model_is_missing(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    job = {"model_id": T2V, "prompt": "a forest", "queue": False}
    ran = api.post("/api/v1/generate", json=job, headers=AUTH).json()
    assert ran["used_model"] == TI2V and ran["strategy"]["strategy_type"] == "alternative_model"
    assert f"modelward pull {T2V}" in ran["upgrade"]
