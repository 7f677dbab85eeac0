"""Review findings on the guard and the audit log: no mutation goes unrecorded (hostile
depth, refusals answered at the edge, work accepted with 202), the actor cannot be claimed,
deep bodies are 400 not 500, retention runs while the service runs, a broken tokens.json
locks nobody out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from modelward.api.accepted import FINISHED
from modelward.api.app import prune_daily
from modelward.db import audit_log, download_outcomes, fallback_decisions
from modelward.ops.audit import (
    MAX_DEPTH,
    MAX_PARAMS_CHARS,
    NESTED,
    NOT_RECORDED,
    TRUNCATED,
    AuditEntry,
    bounded,
)
from modelward.ops.selfstarted import APPLY_UPDATE
from modelward.runtime import Runtime
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V

CLI = {"X-Modelward-Actor": "cli:root"}
SELF_STARTED = ("scheduler", "automation", "recovery")


def _nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        inner = {"a": inner}
    return inner


def _depth(value: Any) -> int:
    levels = 0
    while isinstance(value, dict) and value:
        value = next(iter(value.values()))
        levels += 1
    return levels


def _records(live: LiveService, after: int = 0) -> list[AuditEntry]:
    found = live.runtime.audit.query(limit=1000)
    mine = (e for e in found if e.id > after and e.actor not in SELF_STARTED)
    return sorted(mine, key=lambda e: e.id)


def _last_id(live: LiveService) -> int:
    found = live.runtime.audit.query(limit=1)
    return found[0].id if found else 0


def _wait_for(live: LiveService, match: Any, timeout_s: float = 30) -> AuditEntry:
    deadline = time.monotonic() + timeout_s
    while True:
        hits = [e for e in _records(live) if match(e)]
        if hits:
            return hits[0]
        assert time.monotonic() < deadline, _records(live)
        time.sleep(0.05)


@pytest.fixture
def live(start_service: StartService) -> LiveService:
    return start_service()


class _Unreadable(dict[str, Any]):
    """Parameters whose items cannot be read: storing them fails whatever the code does."""

    def items(self) -> Any:
        raise RuntimeError("unreadable")


def test_params_are_cut_at_a_depth_and_a_size() -> None:
    kept = bounded({"params": _nested(350), "api_key": "s", "s": "x" * 20_000})
    assert _depth(kept["params"]) == MAX_DEPTH - 1 and NESTED in json.dumps(kept)
    assert kept["api_key"] == "[redacted]" and len(json.dumps(kept)) <= MAX_PARAMS_CHARS
    huge = bounded({f"k{i}": "v" * 400 for i in range(100)})
    assert huge[TRUNCATED] is True and 1 < len(huge) < 100
    assert len(json.dumps(huge)) <= MAX_PARAMS_CHARS


def test_a_record_whose_params_cannot_be_stored_is_kept_without_them(live: LiveService) -> None:
    live.runtime.audit.record(
        "ops", "pause", model_id=TI2V, params=_Unreadable(a=1), status=200, token="t"
    )
    [entry] = _records(live)
    assert (entry.actor, entry.action, entry.model_id, entry.outcome) == (
        "ops",
        "pause",
        TI2V,
        "ok",
    )
    assert entry.status == 200 and entry.token == "t"
    assert entry.params == {TRUNCATED: NOT_RECORDED}


def test_params_nested_350_deep_are_refused_and_recorded(live: LiveService) -> None:
    body = {"model_id": TI2V, "params": _nested(350)}
    answer = live.client.post("/api/v1/generate", json=body, headers=AUTH)
    assert answer.status_code == 422 and answer.json()["code"] == "request-invalid"
    [entry] = _records(live)
    assert (entry.action, entry.outcome, entry.status) == ("generate", "refused", 422)
    assert NESTED in json.dumps(entry.params)


def test_a_body_nested_past_the_parser_is_400_and_recorded(live: LiveService) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/generate", f"/api/v1/models/{TI2V}/priority"):
        method = "POST" if path.endswith("generate") else "PUT"
        before = _last_id(live)
        answer = live.client.request(
            method,
            path,
            content=deep,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "request-malformed"
        [entry] = _records(live, before)
        assert (entry.outcome, entry.status, entry.error_code) == (
            "refused",
            400,
            "request-malformed",
        )


def test_only_the_service_token_may_name_the_cli_user(live: LiveService) -> None:
    api = live.client
    made = api.post("/api/v1/tokens", json={"name": "ops", "scope": "operate"}, headers=AUTH)
    operate = {"Authorization": f"Bearer {made.json()['token']}"}
    before = _last_id(live)
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=CLI).status_code == 401
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers={**operate, **CLI}).is_success
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers={**AUTH, **CLI}).is_success
    assert [(e.actor, e.token) for e in _records(live, before)] == [
        ("anonymous", None),
        ("ops", "ops"),
        ("cli:root", "service"),
    ]


def test_refusals_at_the_edge_are_recorded_for_mutating_requests(
    start_service: StartService,
) -> None:
    live = start_service(max_body_bytes=2048)
    api = live.client
    big = json.dumps({"priority": "high", "pad": "x" * 5000})
    json_type = {"Content-Type": "application/json"}
    path = f"/api/v1/models/{TI2V}/priority"
    assert api.put(path, content=big, headers={**AUTH, **json_type}).status_code == 413
    evil = {"Host": "rebind.example"}
    assert api.post(f"/api/v1/models/{TI2V}/pause", headers=evil).status_code == 400
    assert api.post("/api/v1/nowhere", headers=evil).status_code == 400
    assert api.get(f"/api/v1/models/{TI2V}", headers=evil).status_code == 400  # a read
    deadline = time.monotonic() + 10
    while len(_records(live)) < 3:  # each is written just after its answer is sent
        assert time.monotonic() < deadline, _records(live)
        time.sleep(0.05)
    time.sleep(0.2)  # and the read leaves none
    found = {
        (e.actor, e.action, e.model_id, e.outcome, e.status, e.error_code) for e in _records(live)
    }
    assert found == {
        ("service", "set-priority", TI2V, "refused", 413, "request-too-large"),
        ("anonymous", "pause", TI2V, "refused", 400, "host-not-allowed"),
        ("anonymous", "unknown", None, "refused", 400, "host-not-allowed"),
    }
    [unknown] = [e for e in _records(live) if e.action == "unknown"]
    assert unknown.params == {"path": "/api/v1/nowhere", "method": "POST"}


@pytest.mark.parametrize(
    ("path", "action"),
    [(f"/api/v1/models/{TI2V}/repair", "repair"), (f"/api/v1/models/{TI2V}/update", APPLY_UPDATE)],
)
def test_work_accepted_with_202_records_its_end(live: LiveService, path: str, action: str) -> None:
    answer = live.client.post(path, params={"wait": "false"}, headers={**AUTH, **CLI})
    assert answer.status_code == 202, answer.text
    end = _wait_for(live, lambda e: e.params == FINISHED)
    [accepted] = [e for e in _records(live) if e.status == 202]
    assert (accepted.action, accepted.outcome, accepted.actor) == (action, "ok", "cli:root")
    assert (end.action, end.actor, end.token, end.model_id) == (
        action,
        "cli:root",
        "service",
        TI2V,
    )
    assert end.status is None and end.id > accepted.id
    assert end.outcome in ("ok", "failed") and (end.outcome == "ok") == (end.error_code is None)


def _count(runtime: Runtime, table: Any) -> int:
    with runtime.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def test_retention_runs_while_the_service_runs(runtime: Runtime) -> None:
    old = time.time() - (runtime.audit.retention_days + 1) * 86400
    rows: Mapping[Any, dict[str, Any]] = {
        audit_log: {"actor": "a", "action": "pause", "params": {}, "outcome": "ok"},
        download_outcomes: {
            "model_id": TI2V,
            "status": "completed",
            "retries": 0,
            "bytes_fetched": 1,
            "elapsed_s": 1.0,
        },
        fallback_decisions: {"requested_model": TI2V, "strategy": "wait", "is_mock": False},
    }
    with runtime.db.engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(insert(table).values(at=old, **values))
            conn.execute(insert(table).values(at=time.time(), **values))
    pruning = asyncio.create_task(prune_daily(runtime, every_s=0.05))
    try:
        deadline = time.monotonic() + 10
        while any(_count(runtime, t) != 1 for t in rows):
            assert time.monotonic() < deadline, [_count(runtime, t) for t in rows]
            await asyncio.sleep(0.05)
    finally:
        pruning.cancel()


@pytest.fixture
def broken_tokens(live: LiveService) -> Iterator[tuple[LiveService, str]]:
    made = live.client.post(
        "/api/v1/tokens", json={"name": "ops", "scope": "operate"}, headers=AUTH
    )
    tokens = live.runtime.settings.home / "tokens.json"
    good = tokens.read_text()
    tokens.write_text("{ not json")
    yield live, made.json()["token"]
    tokens.write_text(good)


def test_a_broken_tokens_file_locks_out_no_admin(broken_tokens: tuple[LiveService, str]) -> None:
    live, operate = broken_tokens
    api = live.client
    assert api.put("/api/v1/bandwidth", json={"limit_bytes_per_s": 0}, headers=AUTH).is_success
    assert api.get("/api/v1/models").status_code == 200  # reads open on loopback
    for token in (operate, "mw_not-a-token"):
        answer = api.post(
            f"/api/v1/models/{TI2V}/pause", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "tokens-file-invalid"
        assert "tokens.json" in answer.json()["hint"]
    tokens = live.runtime.settings.home / "tokens.json"
    tokens.write_text(json.dumps({"version": 1, "tokens": []}))
    answer = api.post(
        f"/api/v1/models/{TI2V}/pause", headers={"Authorization": f"Bearer {operate}"}
    )
    assert answer.status_code == 401  # readable again: the token is simply unknown
