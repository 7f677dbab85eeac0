"""The service over a real socket (uvicorn in a thread), against the local hub."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from modelward.api import create_app
from modelward.devhub import DevHub
from tests.conftest import TI2V, make_settings

TOKEN = "test-token"


@pytest.fixture
def service(tmp_path: Path, threaded_hub: DevHub) -> Iterator[httpx.Client]:
    settings = make_settings(tmp_path, threaded_hub.url, api_token=TOKEN)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(10)


def test_models_and_status_are_open_to_read(service: httpx.Client) -> None:
    models = service.get("/api/v1/models").json()
    assert {m["id"] for m in models["data"]} >= {"t2v-a14b", "i2v-a14b", "ti2v-5b"}
    # The file list comes from the service's own resolve at start (a read asks nothing).
    deadline = time.monotonic() + 10
    while not (body := _status(service))["missing_files"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    assert body["availability_status"] == "missing"
    assert service.get("/healthz").json()["status"] == "ok"
    assert service.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", "Basic dGVzdA==", "Bearer", "bearer test-token-but-longer"]
)
def test_mutations_need_the_token(service: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = service.post(f"/api/v1/models/{TI2V}/download", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized" and "Bearer" in body["hint"]


def test_download_is_a_job_whose_progress_can_be_followed(service: httpx.Client) -> None:
    accepted = service.post(
        f"/api/v1/models/{TI2V}/download", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert accepted.status_code == 202
    progress_url = accepted.json()["progress_url"]
    deadline = time.monotonic() + 60
    while True:
        progress = service.get(progress_url).json()
        if progress["status"] == "completed":
            break
        assert progress["status"] in ("queued", "downloading"), progress
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert progress["progress_percent"] == 100.0
    status = service.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available" and status["is_available"]
    assert status["local_path"] and Path(status["local_path"]).is_dir()


def test_unknown_model_is_a_404_with_a_hint(service: httpx.Client) -> None:
    response = service.get("/api/v1/models/nope/status")
    assert response.status_code == 404
    assert response.json()["code"] == "model-unknown"
    assert "ti2v-5b" in response.json()["hint"]


def test_a_mutation_of_an_unknown_model_is_a_404_with_a_hint(service: httpx.Client) -> None:
    response = service.post(
        "/api/v1/models/nope/download", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "model-unknown"
    assert "nope" in body["message"] and "ti2v-5b" in body["hint"]


def _status(service: httpx.Client) -> dict[str, object]:
    answer = service.get(f"/api/v1/models/{TI2V}/status")
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body
