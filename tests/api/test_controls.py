"""Routes that steer downloads: pause, resume, cancel, priority, queue, bandwidth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelward.devhub import Fault, FaultPlan
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"
SLOW = FaultPlan([Fault.rate(500_000)])


def _partial(progress: dict[str, Any]) -> bool:
    """Some file is part-way through: there is partial data on disk."""
    return progress["status"] == "downloading" and any(
        0 < f["done_bytes"] < f["total_bytes"] for f in progress["files"].values()
    )


@pytest.fixture
def slow(start_service: StartService) -> LiveService:
    live = start_service(connections=2)
    live.hub.set_faults(SLOW)
    return live


def test_pause_resume_cancel_a_running_download(slow: LiveService) -> None:
    api = slow.client
    assert api.post(f"/api/v1/models/{TI2V}/download", headers=AUTH).status_code == 202
    slow.wait_for_progress(TI2V, _partial)

    paused = api.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH)
    assert paused.status_code == 200, paused.text
    assert paused.json() == {"model_id": TI2V, "action": "pause", "changed": True}
    assert api.get(f"/api/v1/models/{TI2V}/download").json()["status"] == "paused"
    again = api.post(f"/api/v1/models/{TI2V}/pause", headers=AUTH).json()
    assert again["changed"] is False

    resumed = api.post(f"/api/v1/models/{TI2V}/resume", headers=AUTH).json()
    assert resumed == {"model_id": TI2V, "action": "resume", "changed": True}
    slow.wait_for_progress(TI2V, _partial)

    cancelled = api.post(f"/api/v1/models/{TI2V}/cancel", headers=AUTH)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["model_id"] == TI2V and body["stopped"] is True and body["freed_bytes"] > 0
    assert api.get(f"/api/v1/models/{TI2V}/download").json()["status"] == "cancelled"


def test_priority_and_queue_order(slow: LiveService) -> None:
    api = slow.client
    for model_id in (TI2V, T2V):
        assert api.post(f"/api/v1/models/{model_id}/download", headers=AUTH).status_code == 202
    queue = api.get("/api/v1/queue").json()
    assert [e["model_id"] for e in queue["data"]] == [TI2V, T2V]
    assert queue["count"] == 2 and [e["position"] for e in queue["data"]] == [1, 2]

    raised = api.put(f"/api/v1/models/{T2V}/priority", json={"priority": "high"}, headers=AUTH)
    assert raised.status_code == 200, raised.text
    assert raised.json() == {"model_id": T2V, "priority": "high"}
    entries = api.get("/api/v1/queue").json()["data"]
    assert [(e["model_id"], e["priority"]) for e in entries] == [(T2V, "high"), (TI2V, "normal")]

    api.put(f"/api/v1/models/{T2V}/priority", json={"priority": "normal"}, headers=AUTH)
    moved = api.post(f"/api/v1/queue/{T2V}/move", json={"position": 1}, headers=AUTH)
    assert moved.status_code == 200, moved.text
    assert moved.json()["order"][:2] == [T2V, TI2V]
    entries = api.get("/api/v1/queue").json()["data"]
    assert [(e["model_id"], e["position"]) for e in entries] == [(T2V, 1), (TI2V, 2)]
    for model_id in (TI2V, T2V):
        api.post(f"/api/v1/models/{model_id}/cancel", headers=AUTH)


def test_bandwidth_cap_is_read_and_changed(start_service: StartService) -> None:
    api = start_service().client
    assert api.get("/api/v1/bandwidth").json() == {"limit_bytes_per_s": 0}
    cap = {"limit_bytes_per_s": 20_000_000}
    changed = api.put("/api/v1/bandwidth", json=cap, headers=AUTH)
    assert changed.status_code == 200 and changed.json() == cap
    assert api.get("/api/v1/bandwidth").json() == cap
    off = {"limit_bytes_per_s": 0}
    assert api.put("/api/v1/bandwidth", json=off, headers=AUTH).status_code == 200
    assert api.get("/api/v1/bandwidth").json() == off

    own_cap = {"limit_bytes_per_s": 5_500_000}
    own = api.put(f"/api/v1/models/{TI2V}/bandwidth", json=own_cap, headers=AUTH)
    assert own.status_code == 200 and own.json() == {"model_id": TI2V, **own_cap}


def test_a_cap_set_through_the_api_is_kept_for_the_next_start(
    start_service: StartService,
) -> None:
    """The same place `modelward limit` keeps a cap with no service: settings.json."""
    first = start_service()
    cap = {"limit_bytes_per_s": 12_000_000}
    assert first.client.put("/api/v1/bandwidth", json=cap, headers=AUTH).status_code == 200
    kept = json.loads((first.runtime.settings.home / "settings.json").read_text())
    assert kept == {"bandwidth_limit_bytes_per_s": 12_000_000}

    restarted = start_service()  # a new runtime on the same MODELWARD_HOME
    assert restarted.runtime is not first.runtime
    assert restarted.client.get("/api/v1/bandwidth").json() == cap
    assert restarted.runtime.downloader.rate_limit_bytes_per_s == 12_000_000


@pytest.mark.parametrize(
    "value", [-1, "fast", "20MB/s", "20000000", 20.5, True, None, 2 * 10**12, 10**30]
)
@pytest.mark.parametrize("path", ["/api/v1/bandwidth", f"/api/v1/models/{TI2V}/bandwidth"])
def test_a_cap_is_whole_bytes_per_second_within_reason(
    start_service: StartService, path: str, value: object
) -> None:
    response = start_service().client.put(path, json={"limit_bytes_per_s": value}, headers=AUTH)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "request-invalid" and error["hint"]
    assert "limit_bytes_per_s" in error["message"]
    assert "Bytes per second as a whole number (20 MB/s = 20000000)" in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/bandwidth", {"limit_mbps": 20}),  # the old name is gone
        ("PUT", f"/api/v1/models/{TI2V}/priority", {"priority": "urgent"}),
        ("POST", f"/api/v1/queue/{TI2V}/move", {"position": 0}),  # 1 is the front
    ],
)
def test_invalid_bodies_are_refused_with_a_hint(
    start_service: StartService, method: str, path: str, body: dict[str, Any]
) -> None:
    response = start_service().client.request(method, path, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "request-invalid" and response.json()["hint"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/models/nope/pause", None),
        ("POST", "/api/v1/models/nope/cancel", None),
        ("PUT", "/api/v1/models/nope/priority", {"priority": "high"}),
        ("PUT", "/api/v1/models/nope/bandwidth", {"limit_bytes_per_s": 1}),
        ("POST", "/api/v1/queue/nope/move", {"position": 1}),
    ],
)
def test_unknown_models_are_a_404_with_a_hint(
    start_service: StartService, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = start_service().client.request(method, path, json=body, headers=AUTH)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "model-unknown" and TI2V in response.json()["hint"]


def test_every_mutating_route_refuses_without_the_token(start_service: StartService) -> None:
    api = start_service().client
    paths = api.get("/openapi.json").json()["paths"]
    mutating = [
        (method.upper(), path.replace("{model_id}", TI2V))
        for path, operations in paths.items()
        for method in operations
        if method != "get"
    ]
    expected = {
        ("POST", f"/api/v1/models/{TI2V}/{action}")
        for action in ("download", "pause", "resume", "cancel")
    } | {
        ("PUT", f"/api/v1/models/{TI2V}/priority"),
        ("PUT", f"/api/v1/models/{TI2V}/bandwidth"),
        ("PUT", "/api/v1/bandwidth"),
        ("POST", f"/api/v1/queue/{TI2V}/move"),
    }
    assert expected <= set(mutating)
    for method, path in mutating:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = api.request(method, path, json={}, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthorized"
    assert api.get("/api/v1/queue").status_code == 200  # reads stay open
