"""GET /metrics over a real socket after real downloads, a failed one, a verify that finds
damage, a repair and generation jobs (alternative and mock), and the same figures without
Prometheus in the analytics API."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from modelward.devhub import Fault, FaultPlan
from modelward.ops.metrics import HTTP_METHODS
from modelward.status import ModelAvailabilityStatus
from modelward.store import RepoLayout
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V, TI2V_REPO

T2V = "t2v-a14b"


def scrape(live: LiveService) -> tuple[str, dict[str, list[Sample]]]:
    """The exposition text and its samples by family name."""
    answer = live.client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
    families = {f.name: f.samples for f in text_string_to_metric_families(answer.text)}
    return answer.text, families


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    found = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert found, (name, labels, samples)
    return sum(found)


def wait_status(live: LiveService, model_id: str, status: str) -> None:
    """Until the model's download reaches ``status``."""
    live.wait_for_progress(model_id, lambda p: p["status"] == status, timeout_s=60)


def damage_one_file(tmp_path: Path, live: LiveService) -> None:
    """Flip the last bytes of the model's biggest file, as a bad disk would."""
    big = max((f for f in live.hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size - 10)
        fh.write(b"\x01" * 10)


def test_metrics_and_operations_figures_after_real_work(
    tmp_path: Path, start_service: StartService
) -> None:
    live = start_service(max_retries=1)
    api = live.client
    # 1. The hub is down: the job gets a labelled mock.
    live.hub.set_faults([Fault.http_status(503)])
    mock = api.post("/api/v1/generate", json={"model_id": TI2V, "prompt": "x"}, headers=AUTH)
    assert mock.status_code == 200 and mock.json()["is_mock"], mock.text
    # 2. One failed request for a file, retried, then a complete download.
    live.hub.set_faults(FaultPlan([Fault.http_status(503, path_glob="*model_index.json", times=1)]))
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    wait_status(live, TI2V, "completed")
    # 3. A download that fails for good.
    live.hub.set_faults(FaultPlan([Fault.http_status(404, path_glob="*T2V-A14B*")]))
    assert api.post(f"/api/v1/models/{T2V}/download", headers=AUTH).status_code == 202
    wait_status(live, T2V, "failed")
    live.hub.clear_faults()
    # 4. A job for the failed model runs on the alternative.
    ran = api.post(
        "/api/v1/generate", json={"model_id": T2V, "prompt": "a fox", "queue": False}, headers=AUTH
    ).json()
    assert ran["used_model"] == TI2V and ran["strategy"]["strategy_type"] == "alternative_model"
    # 5. Damage found by a full verify, then repaired.
    damage_one_file(tmp_path, live)
    found = api.post(f"/api/v1/models/{TI2V}/verify?level=full", headers=AUTH).json()
    assert not found["is_healthy"]
    repaired = api.post(f"/api/v1/models/{TI2V}/repair", headers=AUTH).json()
    assert repaired["success"], repaired

    text, m = scrape(live)
    assert (
        value(m["modelward_downloads_started"], "modelward_downloads_started_total", model=TI2V)
        >= 1
    )
    assert (
        value(m["modelward_downloads_completed"], "modelward_downloads_completed_total", model=TI2V)
        >= 1
    )
    [failed] = [s for s in m["modelward_downloads_failed"] if s.name.endswith("_total")]
    assert failed.labels["model"] == T2V and failed.labels["code"] and failed.value == 1
    host = live.hub.url.split("://", 1)[1].rstrip("/")
    assert (
        value(
            m["modelward_download_received_bytes"],
            "modelward_download_received_bytes_total",
            host=host,
        )
        > 0
    )
    assert value(m["modelward_download_retries"], "modelward_download_retries_total") >= 1
    assert all(s.labels["cause"] for s in m["modelward_download_retries"])
    assert value(m["modelward_verify_runs"], "modelward_verify_runs_total", level="full") >= 1
    assert (
        value(
            m["modelward_verify_issues"],
            "modelward_verify_issues_total",
            level="full",
            kind="checksum-mismatch",
        )
        >= 1
    )
    assert value(m["modelward_repairs"], "modelward_repairs_total", outcome="success") == 1
    assert (
        value(m["modelward_repair_refetched_bytes"], "modelward_repair_refetched_bytes_total") > 0
    )
    assert value(m["modelward_quarantine_bytes"], "modelward_quarantine_bytes") > 0
    generations = m["modelward_generation_duration_seconds"]
    assert (
        value(generations, "modelward_generation_duration_seconds_count", model=TI2V, outcome="ok")
        == 1
    )
    assert (
        value(
            generations, "modelward_generation_duration_seconds_count", model=TI2V, outcome="mock"
        )
        == 1
    )
    decisions = m["modelward_fallback_decisions"]
    assert value(decisions, "modelward_fallback_decisions_total", strategy="mock_generation") == 1
    assert value(decisions, "modelward_fallback_decisions_total", strategy="alternative_model") == 1
    assert value(m["modelward_mock_outputs"], "modelward_mock_outputs_total") == 1
    states = {s.labels["state"]: s.value for s in m["modelward_models"]}
    assert states.get("available") == 1 and states.get("failed") == 1, states
    assert "unknown" not in states
    assert sum(states.values()) == len(live.runtime.catalog.ids())
    assert value(m["modelward_download_queue_length"], "modelward_download_queue_length") >= 0
    assert value(m["modelward_disk_free_bytes"], "modelward_disk_free_bytes") > 0
    threshold = live.runtime.settings.low_space_bytes
    assert (
        value(
            m["modelward_disk_low_space_threshold_bytes"],
            "modelward_disk_low_space_threshold_bytes",
        )
        == threshold
    )
    assert "modelward_download_receive_rate_bytes_per_second" in m
    http = m["modelward_http_request_duration_seconds"]
    # The route's template, never the raw path: one series for every model.
    routes = {s.labels["route"] for s in http}
    assert "/api/v1/models/{model_id}/download" in routes
    assert not any(TI2V in r for r in routes)
    assert (
        value(
            http,
            "modelward_http_request_duration_seconds_count",
            route="/api/v1/generate",
            method="POST",
            status="200",
        )
        == 2
    )
    if shutil.which("promtool"):
        lint = subprocess.run(
            ["promtool", "check", "metrics"],
            input=text,
            text=True,
            capture_output=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

    ops = api.get("/api/v1/analytics/operations?days=1")
    assert ops.status_code == 200, ops.text
    body = ops.json()
    by_model = {d["model_id"]: d for d in body["downloads"]}
    assert by_model[TI2V]["completed"] >= 1 and by_model[TI2V]["retries"] >= 1
    assert by_model[TI2V]["success_rate"] == 1.0
    assert by_model[T2V]["failed"] == 1 and by_model[T2V]["success_rate"] == 0.0
    assert sum(by_model[T2V]["failure_codes"].values()) == 1
    strategies = {s["strategy"]: s["count"] for s in body["strategies"]}
    assert strategies["mock_generation"] == 1 and strategies["alternative_model"] == 1
    assert body["alternatives"] == [{"requested_model": T2V, "used_model": TI2V, "count": 1}]
    [today] = body["health_trend"]
    assert today["checks"] >= 2 and today["unhealthy"] >= 1 and today["issues"] >= 1


def test_models_by_state_are_the_status_derivation_from_the_first_scrape(
    start_service: StartService,
) -> None:
    # No event concerned any model yet: each still counts in the state its status says.
    live = start_service()
    statuses = live.client.get("/api/v1/models/status").json()["data"]
    _text, m = scrape(live)
    states = {s.labels["state"]: s.value for s in m["modelward_models"]}
    assert set(states) == {s.value for s in ModelAvailabilityStatus}, states
    wanted = Counter(s["availability_status"] for s in statuses)
    assert {k: v for k, v in states.items() if v} == dict(wanted)


def test_http_methods_are_a_bounded_label(start_service: StartService) -> None:
    live = start_service()
    for method in ("BREW", "PROPFIND", "X-INVENTED"):
        live.client.request(method, "/healthz")
    live.client.head("/healthz")
    _text, m = scrape(live)
    methods = {s.labels["method"] for s in m["modelward_http_request_duration_seconds"]}
    assert "other" in methods and "HEAD" in methods
    assert methods <= HTTP_METHODS | {"other"}, methods


def test_a_queued_request_is_timed_and_unknown_routes_are_one_series(
    start_service: StartService,
) -> None:
    live = start_service()
    api = live.client
    live.hub.set_faults([Fault.rate(3_000_000)])
    job = {"model_id": TI2V, "prompt": "waves"}
    queued = api.post("/api/v1/generate", json=job, headers=AUTH)
    assert queued.status_code == 202, queued.text
    live.hub.clear_faults()
    request_id = queued.json()["request_id"]
    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/requests/{request_id}").json()["state"] != "released":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for path in ("/no/such/thing", "/api/v1/nope-1", "/api/v1/nope-2"):
        api.get(path)
    _text, m = scrape(live)
    waits = m["modelward_request_wait_seconds"]
    assert value(waits, "modelward_request_wait_seconds_count", outcome="released") == 1
    assert value(waits, "modelward_request_wait_seconds_sum", outcome="released") > 0
    routes = {s.labels["route"] for s in m["modelward_http_request_duration_seconds"]}
    assert not any("nope" in r or "no/such" in r for r in routes), routes


@pytest.mark.parametrize("off", [True, False])
def test_operations_figures_follow_the_usage_analytics_flag(
    start_service: StartService, off: bool
) -> None:
    live = start_service(feature_usage_analytics=not off)
    api = live.client
    live.hub.set_faults([Fault.http_status(503)])
    assert (
        api.post(
            "/api/v1/generate", json={"model_id": TI2V, "prompt": "x"}, headers=AUTH
        ).status_code
        == 200
    )
    body = api.get("/api/v1/analytics/operations").json()
    assert body["strategies"] == ([] if off else [{"strategy": "mock_generation", "count": 1}])
