"""Two real ``modelward serve`` processes (their own homes, stores, node names and ports)
sharing one real PostgreSQL database, pulling from the local hub: both register as nodes,
a fleet action asked on one node is done by both, the audit log says so, and a stopped
node shows offline once its heartbeats lapse."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.conftest import TI2V
from tests.fleet.conftest import HEARTBEAT_S, Node, StartNode, until


def _fleet(node: Node) -> dict[str, Any]:
    answer = node.api("GET", "/api/v1/fleet")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _nodes(fleet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in fleet["nodes"]}


def _action(node: Node, action_id: str) -> dict[str, Any] | None:
    found = node.api("GET", "/api/v1/fleet/actions").json()["data"]
    return next((a for a in found if a["id"] == action_id), None)


def _ended(node: Node, action_id: str) -> dict[str, Any] | None:
    action = _action(node, action_id)
    if (
        action
        and action["results"]
        and all(r["state"] in ("completed", "failed") for r in action["results"])
    ):
        return action
    return None


def test_fleet_pull_asked_on_one_node_is_done_by_every_node(
    start_node: StartNode, fleet_db: str
) -> None:
    a = start_node("node-a", fleet_db)
    # Capped, so its pull lasts a few seconds and its progress shows on the other node.
    b = start_node("node-b", fleet_db, MODELWARD_BANDWIDTH_LIMIT="2MB/s")

    # Registered at start; the address follows once the port is bound (asked for 0).
    fleet = until(
        lambda: (
            (f := _fleet(a))
            and len(f["nodes"]) == 2
            and all(n["address"] for n in f["nodes"])
            and f
        )
    )
    assert fleet["shared"] is True and fleet["note"] is None
    assert fleet["this_node"] == "node-a"
    nodes = _nodes(fleet)
    assert nodes["node-a"]["this_node"] and not nodes["node-b"]["this_node"]
    assert nodes["node-b"]["address"] == b.url  # the bound port, not the 0 asked for
    for node in nodes.values():
        assert node["online"] and node["free_bytes"] > 0
        ids = {m["model_id"]: m for m in node["models"]}
        assert ids[TI2V]["state"] == "missing" and ids[TI2V]["commit"] is None

    asked = a.api("POST", "/api/v1/fleet/actions", json={"action": "pull", "model_id": TI2V})
    assert asked.status_code == 202, asked.text
    action_id = asked.json()["id"]
    assert asked.json()["origin"] == "node-a" and asked.json()["nodes"] is None

    # A sees B's pull under way, from B's heartbeats.
    def b_pulling(fleet: dict[str, Any]) -> bool:
        [cell] = [c for m in fleet["models"] if m["model_id"] == TI2V for c in m["nodes"]
                  if c["node"] == "node-b"]  # fmt: skip
        return cell["state"] == "downloading" and 0 < (cell["progress"] or 0) < 100

    until(lambda: b_pulling(_fleet(a)), every_s=0.2)
    # B's API sees the same action: the request travelled through the shared database.
    done = until(lambda: _ended(b, action_id))
    assert [(r["node"], r["state"]) for r in done["results"]] == [
        ("node-a", "completed"),
        ("node-b", "completed"),
    ], done
    for node in (a, b):  # each node downloaded it into its own store
        status = node.api("GET", f"/api/v1/models/{TI2V}/status").json()
        assert status["availability_status"] == "available", status

    fleet = until(
        lambda: (
            (f := _fleet(b))
            and all(c["commit"] for m in f["models"] if m["model_id"] == TI2V for c in m["nodes"])
            and f
        )
    )
    [model] = [m for m in fleet["models"] if m["model_id"] == TI2V]
    assert sorted(model["holders"]) == ["node-a", "node-b"]
    assert model["behind"] == [] and model["unhealthy"] == [] and model["offline"] == []
    assert {c["commit"] for c in model["nodes"]} == {model["newest_commit"]}

    # The shared audit log: the ask on A, and each node's part, naming the fleet and who.
    audit = b.api("GET", "/api/v1/audit", params={"model": TI2V}).json()["data"]
    parts = {e["params"]["node"]: e for e in audit if e["action"] == "fleet-pull"}
    assert set(parts) == {"node-a", "node-b"}
    for entry in parts.values():
        assert entry["outcome"] == "ok"
        assert entry["actor"] == "fleet:node-a:service"
        assert entry["params"]["action_id"] == action_id
    [ask] = [e for e in audit if e["action"] == "ask-fleet-action"]
    assert ask["outcome"] == "ok" and ask["status"] == 202


def test_fleet_node_shows_offline_once_its_heartbeats_lapse(
    start_node: StartNode, fleet_db: str
) -> None:
    a = start_node("node-a", fleet_db)
    b = start_node("node-b", fleet_db)
    until(lambda: len(_fleet(a)["nodes"]) == 2)
    b.stop()
    fleet = until(lambda: (f := _fleet(a)) and not _nodes(f)["node-b"]["online"] and f)
    last_seen = _nodes(fleet)["node-b"]["last_seen"]
    assert _nodes(fleet)["node-a"]["online"]
    assert fleet["offline_after_s"] == pytest.approx(3 * HEARTBEAT_S)
    # It stays offline: nothing beats for it any more.
    time.sleep(2 * HEARTBEAT_S)
    assert _nodes(_fleet(a))["node-b"]["last_seen"] == last_seen

    # An action asked of every node now is not waiting for the offline one.
    asked = a.api("POST", "/api/v1/fleet/actions", json={"action": "verify", "model_id": TI2V})
    done = until(lambda: _ended(a, asked.json()["id"]))
    assert [r["node"] for r in done["results"]] == ["node-a"]


def test_fleet_refuses_unknown_model_action_node_and_a_low_scope(
    start_node: StartNode, fleet_db: str
) -> None:
    a = start_node("node-a", fleet_db)
    until(lambda: len(_fleet(a)["nodes"]) == 1)

    def ask(body: dict[str, Any], token: str | None = None) -> httpx.Response:
        return a.api("POST", "/api/v1/fleet/actions", token=token, json=body)

    for body, status, code in [
        ({"action": "pull", "model_id": "nope"}, 404, "model-unknown"),
        ({"action": "pull", "model_id": TI2V, "nodes": ["node-z"]}, 422, "node-unknown"),
        ({"action": "explode", "model_id": TI2V}, 422, "request-invalid"),
    ]:
        answer = ask(body)
        assert answer.status_code == status, answer.text
        assert answer.json()["code"] == code and answer.json()["hint"]

    made = a.cli("token", "create", "ops", "--scope", "operate")
    assert made.returncode == 0, made.stderr
    operate = made.stdout.strip()
    refused = ask({"action": "remove", "model_id": TI2V}, operate)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    allowed = ask({"action": "verify", "model_id": TI2V, "nodes": ["node-a"]}, operate)
    assert allowed.status_code == 202, allowed.text
    assert allowed.json()["actor"] == "ops"

    audit = a.api("GET", "/api/v1/audit", params={"action": "ask-fleet-action"}).json()["data"]
    outcomes = sorted((e["outcome"], e["status"]) for e in audit)
    assert outcomes == [("ok", 202), *[("refused", s) for s in (403, 404, 422, 422)]]


def test_fleet_cli_shows_nodes_and_follows_an_action(start_node: StartNode, fleet_db: str) -> None:
    a = start_node("node-a", fleet_db)
    start_node("node-b", fleet_db)
    until(lambda: len(_fleet(a)["nodes"]) == 2)

    pulled = a.cli("fleet", "pull", TI2V, "--nodes", "node-b", "--wait", "--json")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    action = json.loads(pulled.stdout)
    assert action["nodes"] == ["node-b"]
    assert [(r["node"], r["state"]) for r in action["results"]] == [("node-b", "completed")]

    until(lambda: any(c["commit"] for m in _fleet(a)["models"] for c in m["nodes"]))
    shown = a.cli("fleet")
    assert shown.returncode == 0, shown.stderr
    assert "node-a (this)" in shown.stdout and "node-b" in shown.stdout
    assert f"{TI2V} " in shown.stdout and "available" in shown.stdout
    as_json = json.loads(a.cli("fleet", "--json").stdout)
    assert sorted(n["name"] for n in as_json["nodes"]) == ["node-a", "node-b"]

    listed = a.cli("fleet", "actions")
    assert listed.returncode == 0 and "completed" in listed.stdout, listed.stdout
    bad = a.cli("fleet", "pull", TI2V, "--nodes", "node-z")
    assert bad.returncode == 2 and "node-z" in bad.stderr and "Traceback" not in bad.stderr


def test_fleet_of_one_on_sqlite_says_so(start_node: StartNode) -> None:
    solo = start_node("solo", None)
    fleet = until(lambda: (f := _fleet(solo)) and f["nodes"] and f)
    assert fleet["shared"] is False and "SQLite" in fleet["note"]
    assert [n["name"] for n in fleet["nodes"]] == ["solo"]
    asked = solo.api("POST", "/api/v1/fleet/actions", json={"action": "pull", "model_id": TI2V})
    done = until(lambda: _ended(solo, asked.json()["id"]))
    assert [(r["node"], r["state"]) for r in done["results"]] == [("solo", "completed")]
