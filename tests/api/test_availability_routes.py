"""Availability through a real service and the local hub: alternatives, strategies, waits,
demo generation, and a queued request that completes on its own."""

from __future__ import annotations

import time
from pathlib import Path

from modelward.devhub import Fault
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"
I2V = "i2v-a14b"


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
    # The library says what to do as a code; the service adds its route.
    assert (strategy["action"], strategy["action_model"]) == ("download", TI2V)
    assert strategy["route"] == f"POST /api/v1/models/{TI2V}/download"
    advice = api.get(f"/api/v1/models/{TI2V}/advice").json()
    assert advice["strategy"]["route"] == strategy["route"]
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
    assert body["state"] == "queued" and body["position"] == 1  # positions count from 1
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
    assert ran["upgrade"]["action"] == "download" and ran["upgrade"]["model_id"] == T2V
    assert ran["upgrade"]["route"] == f"POST /api/v1/models/{T2V}/download"


def test_hub_down_gives_a_labelled_mock_with_setup_then_the_real_model(
    start_service: StartService,
) -> None:
    live = start_service(max_retries=0)
    api = live.client
    live.hub.set_faults([Fault.http_status(503)])
    job = {"model_id": TI2V, "prompt": "rain on a window"}
    mock = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert mock.status_code == 200, mock.text
    body = mock.json()
    assert body["is_mock"] and body["used_model"] is None and "MOCK" in body["message"]
    assert body["strategy"]["strategy_type"] == "mock_generation"
    downloads = [s for s in body["strategy"]["steps"] if s["action"] == "download"]
    assert f"POST /api/v1/models/{TI2V}/download" in [s["route"] for s in downloads]
    assert body["upgrade"] and body["upgrade"]["model_id"] == TI2V
    setup = api.post(f"/api/v1/models/{TI2V}/recover", json={}, headers=AUTH).json()
    assert setup["action"] == "setup-instructions" and not setup["success"]
    demo = [s for s in setup["steps"] if s["action"] == "demo"]
    assert demo and demo[0]["route"] is None  # a command only: the CLI has it

    live.hub.clear_faults()
    queued = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert queued.status_code == 202, queued.text
    request_id = queued.json()["request_id"]
    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/requests/{request_id}").json()["state"] != "released":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    real = api.post("/api/v1/generate", json=job, headers=AUTH).json()
    assert real["used_model"] == TI2V and not real["is_mock"] and real["upgrade"] is None
    [status] = [s for s in api.get("/api/v1/models/status").json()["data"] if s["model_id"] == TI2V]
    assert status["availability_status"] == "available" and status["usage_frequency"] > 0
    assert "text-to-video" in status["usable_for"]


def test_cleanup_and_recover_routes(start_service: StartService) -> None:
    live = start_service()
    api = live.client
    assert api.post("/api/v1/cleanup", json={}).status_code == 401
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    live.wait_for_progress(TI2V, lambda p: p["status"] == "completed")
    plan = api.post("/api/v1/cleanup", json={"keep_recent_days": 0}, headers=AUTH).json()
    assert plan["dry_run"] and [c["model_id"] for c in plan["removed"]] == [TI2V]
    assert plan["freed_bytes"] > 0 and "would free" in plan["message"]
    unknown = api.post("/api/v1/cleanup", json={"keep": ["nope"]}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["code"] == "model-unknown"
    fine = api.post(f"/api/v1/models/{TI2V}/recover", json={}, headers=AUTH).json()
    assert fine["action"] == "nothing-to-do" and fine["success"]
    bad = api.post(f"/api/v1/models/{TI2V}/recover", json={"category": "gremlins"}, headers=AUTH)
    assert bad.status_code == 422
    order = api.post("/api/v1/queue/prioritize", headers=AUTH).json()["order"]
    assert TI2V not in order and set(order) == {T2V, "i2v-a14b"}


def test_advice_puts_the_requested_model_first_when_it_is_here_and_fits(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    for model_id in (T2V, TI2V):
        assert api.post(f"/api/v1/models/{model_id}/download", headers=AUTH).status_code == 202
        live.wait_for_progress(model_id, lambda p: p["status"] == "completed")
    advice = api.get(f"/api/v1/models/{T2V}/advice?vram_gb=80")
    assert advice.status_code == 200, advice.text
    body = advice.json()
    assert body["requested"]["fits"] is True
    assert body["strategy"]["strategy_type"] == "use_requested"
    assert body["strategy"]["user_message"].startswith("use t2v-a14b: it is available and fits")
    assert [a["suggested_model"] for a in body["alternatives"]] == [TI2V]
    assert body["alternatives"][0]["estimated_quality_difference"] == "slightly_lower"
    [i2v] = body["not_offered"]
    assert i2v == {
        "model_id": I2V,
        "reason": "i2v-a14b needs an image; this job has only text",
        "capabilities_known": True,
    }
    strategy = api.get(f"/api/v1/models/{T2V}/strategy?vram_gb=80").json()
    assert strategy["strategy_type"] == "use_requested" and strategy["alternative_model"] is None
    ran = api.post("/api/v1/generate", json={"model_id": T2V, "prompt": "a fox"}, headers=AUTH)
    assert ran.status_code == 200 and ran.json()["used_model"] == T2V, ran.text


def test_a_job_without_the_input_its_model_needs_is_refused(
    start_service: StartService, tmp_path: Path
) -> None:
    api = start_service().client
    no_image = api.post("/api/v1/generate", json={"model_id": I2V, "prompt": "x"}, headers=AUTH)
    assert no_image.status_code == 422, no_image.text
    assert no_image.json()["code"] == "input-missing"
    assert "needs an image" in no_image.json()["message"] and no_image.json()["hint"]

    missing_file = str(tmp_path / "no-such.png")
    job = {"model_id": I2V, "prompt": "x", "image": missing_file}
    gone = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert gone.status_code == 422 and gone.json()["code"] == "input-not-found"
    assert missing_file in gone.json()["message"]
    relative = api.post("/api/v1/generate", json={**job, "image": "frame.png"}, headers=AUTH)
    assert relative.status_code == 422 and "relative" in relative.json()["message"]

    picture = tmp_path / "frame.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    disagree = {**job, "image": str(picture), "requirements": {"inputs": ["text"]}}
    refused = api.post("/api/v1/generate", json=disagree, headers=AUTH)
    assert refused.status_code == 422 and "requirements.inputs" in refused.json()["message"]
    # Nothing was queued or started for any refused job.
    assert api.get("/api/v1/requests").json() == []
    assert api.get(f"/api/v1/models/{I2V}/download").json()["status"] != "downloading"
