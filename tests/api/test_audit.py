"""The audit log through the API: every mutating operation the OpenAPI document lists
leaves exactly one record with the right actor and outcome, refused ones included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelward.api.accepted import FINISHED
from modelward.api.guard import ACTION_KEY, SCOPE_KEY
from modelward.ops.audit import AuditEntry
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V

CLI = {"X-Modelward-Actor": "cli:tester"}
SELF_STARTED = ("scheduler", "automation", "recovery")

# One request per mutating operation: (query, JSON body). A route missing here fails
# test_every_mutating_operation_is_listed, so a new one cannot go unaudited.
REQUESTS: dict[tuple[str, str], tuple[dict[str, Any], Any]] = {
    ("POST", "/api/v1/tokens"): ({}, {"name": "audit-me", "scope": "read"}),
    ("DELETE", "/api/v1/tokens/{name}"): ({}, None),
    ("POST", "/api/v1/models"): ({}, {"repo_id": "Wan-AI/Wan2.2-TI2V-5B-Diffusers"}),
    ("POST", "/api/v1/models/{model_id}/download"): ({}, None),
    ("POST", "/api/v1/models/{model_id}/pause"): ({}, None),
    ("POST", "/api/v1/models/{model_id}/resume"): ({}, None),
    ("PUT", "/api/v1/models/{model_id}/priority"): ({}, {"priority": "high"}),
    ("POST", "/api/v1/queue/{model_id}/move"): ({}, {"position": 1}),
    ("POST", "/api/v1/queue/prioritize"): ({}, None),
    ("POST", "/api/v1/models/{model_id}/cancel"): ({}, None),
    ("PUT", "/api/v1/bandwidth"): ({}, {"limit_bytes_per_s": 0}),
    ("PUT", "/api/v1/models/{model_id}/bandwidth"): ({}, {"limit_bytes_per_s": 0}),
    ("POST", "/api/v1/models/{model_id}/verify"): ({"level": "quick"}, None),
    ("POST", "/api/v1/models/{model_id}/repair"): ({"wait": "false"}, None),
    ("DELETE", "/api/v1/quarantine"): ({}, None),
    ("POST", "/api/v1/models/{model_id}/performance"): ({}, {"generation_time_s": 1.5}),
    ("POST", "/api/v1/generate"): ({}, {"model_id": TI2V, "params": {"api_key": "s3cret"}}),
    ("DELETE", "/api/v1/requests/{request_id}"): ({}, None),
    ("POST", "/api/v1/models/{model_id}/recover"): ({}, {}),
    ("POST", "/api/v1/cleanup"): ({}, {"dry_run": True}),
    ("POST", "/api/v1/ensure"): ({}, {"model_ids": [TI2V]}),
    ("PUT", "/api/v1/models/{model_id}/pin"): ({}, None),
    ("DELETE", "/api/v1/models/{model_id}/pin"): ({}, None),
    ("DELETE", "/api/v1/models/{model_id}"): ({"dry_run": "true"}, None),
    ("POST", "/api/v1/models/{model_id}/adopt"): ({}, {"path": "{empty_dir}"}),
    ("POST", "/api/v1/models/{model_id}/update"): ({"wait": "false"}, None),
    ("POST", "/api/v1/models/{model_id}/rollback"): ({}, None),
    ("PUT", "/api/v1/models/{model_id}/update-policy"): ({}, {"policy": "notify"}),
    ("DELETE", "/api/v1/models/{model_id}/versions/previous"): ({}, None),
    ("PATCH", "/api/v1/settings"): ({}, {"unused_after_days": 30}),
    # A node no one registered: refused, so no node's fleet work adds records meanwhile.
    ("POST", "/api/v1/fleet/actions"): (
        {},
        {"action": "verify", "model_id": TI2V, "nodes": ["no-node"]},
    ),
}
PATH_VALUES = {"model_id": TI2V, "request_id": "no-such-request", "name": "audit-me"}


def _mutations(live: LiveService) -> dict[tuple[str, str], dict[str, Any]]:
    document = live.client.get("/openapi.json").json()
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method.upper() != "GET"
    }


def _new_records(live: LiveService, after: int) -> list[AuditEntry]:
    """Records of requests after ``after``: neither self-started work nor the end of work
    a request accepted with 202 (test_audit_findings checks those)."""
    entries = live.runtime.audit.query(limit=1000)
    return [
        e for e in entries if e.id > after and e.actor not in SELF_STARTED and e.params != FINISHED
    ]


def _last_id(live: LiveService) -> int:
    entries = live.runtime.audit.query(limit=1)
    return entries[0].id if entries else 0


def _expected_outcome(status: int) -> str:
    return "failed" if status >= 500 else "refused" if status >= 400 else "ok"


@pytest.fixture
def live(start_service: StartService) -> LiveService:
    return start_service()


def test_every_mutating_operation_is_listed(live: LiveService) -> None:
    operations = _mutations(live)
    assert set(operations) == set(REQUESTS), "add the new route to REQUESTS"
    for key, operation in operations.items():
        assert operation[SCOPE_KEY] in ("operate", "admin"), key
        assert operation[ACTION_KEY], key
        assert operation["security"] == [{"bearer": []}], key
        assert {"401", "403", "413"} <= set(operation["responses"]), key


def test_each_mutation_leaves_exactly_one_record(live: LiveService, tmp_path: Path) -> None:
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    operations = _mutations(live)
    for index, ((method, template), (query, body)) in enumerate(REQUESTS.items()):
        with_cli = index % 2 == 0
        path = template.format(**PATH_VALUES)
        if isinstance(body, dict) and body.get("path") == "{empty_dir}":
            body = {"path": str(empty)}
        before = _last_id(live)
        headers = {**AUTH, **(CLI if with_cli else {})}
        answer = live.client.request(method, path, params=query, json=body, headers=headers)
        assert answer.status_code < 500, (method, path, answer.text)
        records = _new_records(live, before)
        assert len(records) == 1, (method, path, records)
        [record] = records
        assert record.action == operations[(method, template)][ACTION_KEY]
        assert record.actor == ("cli:tester" if with_cli else "service"), (method, path)
        assert record.token == "service"
        assert record.status == answer.status_code
        assert record.outcome == _expected_outcome(answer.status_code), (method, path)
        if answer.status_code >= 400:
            assert record.error_code == answer.json()["code"]
        if "{model_id}" in template or (isinstance(body, dict) and "model_id" in body):
            assert record.model_id == TI2V, (method, path)
    generated = live.runtime.audit.query(action="generate")[0]
    assert generated.params["params"] == {"api_key": "[redacted]"}


def test_refused_requests_are_recorded_as_refused(live: LiveService) -> None:
    api = live.client
    reader = api.post("/api/v1/tokens", json={"name": "r", "scope": "read"}, headers=AUTH)
    before = _last_id(live)
    cases = [
        (api.post(f"/api/v1/models/{TI2V}/pause"), "anonymous", None),
        # Only the service's own token may name the CLI's user: anyone else is who they are.
        (api.post(f"/api/v1/models/{TI2V}/pause", headers=CLI), "anonymous", None),
        (
            api.post(
                f"/api/v1/models/{TI2V}/pause",
                headers={"Authorization": f"Bearer {reader.json()['token']}", **CLI},
            ),
            "r",
            "r",
        ),
        (
            api.put(f"/api/v1/models/{TI2V}/priority", json={"priority": 7}, headers=AUTH),
            "service",
            "service",
        ),
        (api.post(f"/api/v1/models/{TI2V}/rollback", headers=AUTH), "service", "service"),
    ]
    records = sorted(_new_records(live, before), key=lambda r: r.id)
    assert [a.status_code for a, _, _ in cases] == [401, 401, 403, 422, 409]
    assert [(r.actor, r.token, r.status, r.outcome) for r in records] == [
        (actor, token, answer.status_code, "refused") for answer, actor, token in cases
    ]
    assert [r.error_code for r in records] == [
        "unauthorized",
        "unauthorized",
        "forbidden",
        "request-invalid",
        "no-previous-version",
    ]


def test_the_audit_route_filters_and_bounds(live: LiveService) -> None:
    api = live.client
    api.post(f"/api/v1/models/{TI2V}/pause", headers={**AUTH, **CLI})
    api.put("/api/v1/bandwidth", json={"limit_bytes_per_s": 0}, headers=AUTH)
    everything = api.get("/api/v1/audit", headers=AUTH).json()
    assert [e["action"] for e in everything["data"]][:2] == ["set-bandwidth", "pause"]
    mine = api.get("/api/v1/audit", params={"model": TI2V}, headers=AUTH).json()
    assert [(e["action"], e["actor"]) for e in mine["data"]] == [("pause", "cli:tester")]
    by_action = api.get("/api/v1/audit", params={"action": "set-bandwidth"}, headers=AUTH).json()
    assert by_action["count"] == 1 and by_action["data"][0]["actor"] == "service"
    for since in ("2d", "2000-01-01T00:00:00Z", "946684800"):
        found = api.get("/api/v1/audit", params={"since": since}, headers=AUTH).json()
        assert found["count"] >= 2, since
    assert (
        api.get("/api/v1/audit", params={"since": "3000-01-01"}, headers=AUTH).json()["count"] == 0
    )
    assert api.get("/api/v1/audit", params={"since": "soon"}, headers=AUTH).status_code == 422
    for limit in (0, 1001):
        assert api.get("/api/v1/audit", params={"limit": limit}, headers=AUTH).status_code == 422
    assert api.get("/api/v1/audit").status_code == 401
