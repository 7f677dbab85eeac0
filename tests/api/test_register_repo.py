"""POST /api/v1/models: a Hub repo becomes a catalog entry the other routes take."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO


def test_a_repo_the_catalog_names_answers_that_entry(start_service: StartService) -> None:
    service = start_service()
    answer = service.client.post("/api/v1/models", json={"repo_id": TI2V_REPO}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    entry = answer.json()
    assert entry["id"] == TI2V and entry["created"] is False
    assert len(service.client.get("/api/v1/models").json()["data"]) == 3


def test_a_new_selection_is_remembered_and_downloads_like_any_id(
    start_service: StartService,
) -> None:
    service = start_service()
    body = {"repo_id": TI2V_REPO, "include": ["*.json"]}
    assert service.client.post("/api/v1/models", json=body).status_code == 401  # no token

    answer = service.client.post("/api/v1/models", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    entry = answer.json()
    model_id = entry["id"]
    assert model_id == "wan2.2-ti2v-5b-diffusers"
    assert entry["created"] is True and entry["include"] == ["*.json"]
    assert entry["repo"] == TI2V_REPO and entry["revision"] == "main"
    listed = [m["id"] for m in service.client.get("/api/v1/models").json()["data"]]
    assert model_id in listed
    again = service.client.post("/api/v1/models", json=body, headers=AUTH)
    assert again.status_code == 200 and again.json()["id"] == model_id

    started = service.client.post(f"/api/v1/models/{model_id}/download", headers=AUTH)
    assert started.status_code == 202, started.text
    service.wait_for_progress(model_id, lambda p: p["status"] == "completed")
    status = service.client.get(f"/api/v1/models/{model_id}/status").json()
    assert status["availability_status"] == "available"
    snapshot = service.runtime.settings.cache_dir.glob("models--*/snapshots/*/**/*")
    files = [p.name for p in snapshot if not p.is_dir()]
    assert files and all(name.endswith(".json") for name in files)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repo_id": "../x"}, "repo_id"),
        ({"repo_id": "a/b/c"}, "repo_id"),
        ({"repo_id": "org/name", "revision": "../../x"}, "revision"),
        ({"repo_id": "org/name", "include": ["bad\nglob"]}, "include"),
        ({"repo_id": "org/name", "exclude": ["/abs"]}, "exclude"),
    ],
)
def test_hostile_repo_ids_revisions_and_globs_are_refused(
    start_service: StartService, body: dict[str, object], field: str
) -> None:
    service = start_service()
    answer = service.client.post("/api/v1/models", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["code"] == "catalog-invalid"
    assert field in error["message"] and error["hint"]
    assert not service.runtime.remembered.path.exists()
