"""Three modelward services on one machine share a PostgreSQL database and a team mirror on
a real S3 server: asked for ti2v-5b at once, they fetch every blob from the local hub once
in total, all end verified, and the fleet view shows three nodes at the same version. With
the hub down, a fourth node still gets the model from the mirror and says so."""

from __future__ import annotations

from typing import Any

from modelward.devhub import DevHub
from tests.conftest import TI2V, TI2V_REPO, hub_file_bytes
from tests.fleet.conftest import StartNode, until
from tests.s3 import S3Server


def _team_env(s3_server: S3Server, bucket: str) -> dict[str, str]:
    return s3_server.env() | {
        "MODELWARD_MIRRORS": f"s3://{bucket}/hf",
        "MODELWARD_LEASE_TTL": "5",
        "MODELWARD_BANDWIDTH_LIMIT": "4MB/s",  # so the three pulls overlap
    }


def _ended(node: Any, action_id: str) -> dict[str, Any] | None:
    found = node.api("GET", "/api/v1/fleet/actions").json()["data"]
    action = next((a for a in found if a["id"] == action_id), None)
    results = action["results"] if action else []
    if len(results) == 3 and all(r["state"] in ("completed", "failed") for r in results):
        return dict(action or {})
    return None


def test_three_nodes_pull_once_from_the_hub_and_agree_in_the_fleet_view(
    start_node: StartNode,
    fleet_db: str,
    threaded_hub: DevHub,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    team = _team_env(s3_server, s3_bucket)
    a, b, c = (start_node(name, fleet_db, **team) for name in ("gpu-1", "gpu-2", "gpu-3"))
    until(lambda: len(a.api("GET", "/api/v1/fleet").json()["nodes"]) == 3)
    threaded_hub.clear_log()
    asked = a.api("POST", "/api/v1/fleet/actions", json={"action": "pull", "model_id": TI2V})
    assert asked.status_code == 202, asked.text
    done = until(lambda: _ended(a, asked.json()["id"]), timeout_s=120, every_s=0.3)
    assert {r["node"]: r["state"] for r in done["results"]} == dict.fromkeys(
        ("gpu-1", "gpu-2", "gpu-3"), "completed"
    ), done
    manifest = threaded_hub.manifest(TI2V_REPO)
    assert hub_file_bytes(threaded_hub) == sum(f.size for f in manifest.files)

    def agreed() -> dict[str, Any] | None:
        fleet = c.api("GET", "/api/v1/fleet").json()
        [model] = [m for m in fleet["models"] if m["model_id"] == TI2V]
        cells = model["nodes"]
        ok = len(cells) == 3 and all(
            x["commit"] == manifest.commit and x["state"] == "available" and not x["behind"]
            for x in cells
        )
        return dict(fleet) if ok else None

    fleet = until(agreed, timeout_s=30, every_s=0.3)
    assert all(n["online"] for n in fleet["nodes"]), fleet
    for node in (a, b, c):
        status = node.api("GET", f"/api/v1/models/{TI2V}/status").json()
        assert status["availability_status"] == "available", status

    # The hub goes away: a new node gets the model from the mirror, verified against its
    # manifest, and its download says where the files and checksums came from.
    d = start_node("gpu-4", fleet_db, **team, HF_ENDPOINT="http://127.0.0.1:9")
    pulled = d.cli("pull", TI2V)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert f"files and checksums from the mirror s3://{s3_bucket}/hf" in pulled.stdout
    progress = d.api("GET", f"/api/v1/models/{TI2V}/download").json()
    assert progress["status"] == "completed", progress
    assert progress["metadata_from"] == f"the mirror s3://{s3_bucket}/hf (the Hub: unreachable)"
