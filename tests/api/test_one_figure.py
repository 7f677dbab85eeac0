"""One figure per fact across routes: how full the disk is, where a model is in the queue."""

from __future__ import annotations

import shutil
from pathlib import Path

from modelward.devhub import Fault, FaultPlan
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"


def test_health_and_storage_show_the_same_disk_use(start_service: StartService) -> None:
    api = start_service().client
    health = api.get("/api/v1/health").json()
    storage = api.get("/api/v1/storage").json()
    # One reading function, so both routes give df's figure; other work on this disk may
    # move it by a hair between the two requests, never by the 44 points once seen.
    assert abs(health["storage_usage_percent"] - storage["used_percent"]) <= 0.1
    usage = shutil.disk_usage(Path(storage["path"]).parent)  # the store's file system
    df_percent = 100 * usage.used / (usage.used + usage.free)
    assert abs(storage["used_percent"] - df_percent) <= 0.1
    assert storage["used_bytes"] + storage["free_bytes"] <= storage["total_bytes"]
    assert health["storage_free_bytes"] > 0


def test_queue_positions_start_at_one(start_service: StartService) -> None:
    live = start_service(connections=1)
    live.hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    api = live.client
    for model_id in (TI2V, T2V):
        assert api.post(f"/api/v1/models/{model_id}/download", headers=AUTH).status_code == 202
    entries = api.get("/api/v1/queue").json()["data"]
    assert [(e["model_id"], e["position"]) for e in entries] == [(TI2V, 1), (T2V, 2)]

    moved = api.post(f"/api/v1/queue/{T2V}/move", json={"position": 1}, headers=AUTH)
    assert moved.status_code == 200 and moved.json()["order"][:2] == [T2V, TI2V]
    entries = api.get("/api/v1/queue").json()["data"]
    assert [(e["model_id"], e["position"]) for e in entries] == [(T2V, 1), (TI2V, 2)]
    front = api.post(f"/api/v1/queue/{TI2V}/move", json={"position": 0}, headers=AUTH)
    assert front.status_code == 422 and "position" in front.json()["message"]
    for model_id in (TI2V, T2V):
        api.post(f"/api/v1/models/{model_id}/cancel", headers=AUTH)
