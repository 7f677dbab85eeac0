"""Regression tests for what an outside fuzz probe of the API found (issue 16, findings
1 to 5): each request that used to end in a 500 or an answer the OpenAPI document did not
describe, sent again to a live service."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx

from modelward.api.openapi import openapi_document
from modelward.devhub import Fault
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V

T2V = "t2v-a14b"
HUGE = 1e17  # seconds: past what timedelta holds (~8.6e13 s)
CLIENTS = 32
MAX_REQUESTS = 600


def _refused(response: httpx.Response, status: int = 422, code: str = "request-invalid") -> dict:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message"] and body["hint"], body
    return body


def test_absurd_max_wait_is_refused_not_a_500(start_service: StartService) -> None:
    api = start_service().client
    for route in ("alternative", "strategy", "advice"):
        _refused(api.get(f"/api/v1/models/{T2V}/{route}", params={"max_wait_s": HUGE}))
        _refused(api.get(f"/api/v1/models/{T2V}/{route}", params={"max_wait_s": "inf"}))
    job = {"model_id": TI2V, "prompt": "waves", "requirements": {"max_wait_s": HUGE}}
    body = _refused(api.post("/api/v1/generate", json=job, headers=AUTH))
    assert "max_wait_s" in body["message"]
    no_ttl = {**job, "requirements": {}, "ttl_s": HUGE}
    _refused(api.post("/api/v1/generate", json=no_ttl, headers=AUTH))
    recover = {"requirements": {"max_wait_s": HUGE}}
    _refused(api.post(f"/api/v1/models/{TI2V}/recover", json=recover, headers=AUTH))
    # A sensible wait still works.
    ok = api.get(f"/api/v1/models/{T2V}/strategy", params={"max_wait_s": 3600})
    assert ok.status_code == 200, ok.text


def test_every_number_a_request_takes_has_an_upper_bound() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    unbounded: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found = _unbounded(parameter["schema"], schemas, f"?{parameter['name']}")
                unbounded += [f"{where} {name}" for name in found]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += [f"{where} {name}" for name in _unbounded(media["schema"], schemas)]
    assert unbounded == []


def _unbounded(
    schema: dict[str, Any],
    schemas: dict[str, Any],
    name: str = "body",
    seen: frozenset = frozenset(),
) -> list[str]:
    """Every number in ``schema`` (references, unions, objects and arrays followed) that
    has no maximum."""
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        return [] if ref in seen else _unbounded(schemas[ref], schemas, name, seen | {ref})
    if schema.get("type") in ("integer", "number"):
        bounded = "maximum" in schema or "exclusiveMaximum" in schema
        return [] if bounded else [name]
    found: list[str] = []
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        found += _unbounded(option, schemas, name, seen)
    for field, spec in schema.get("properties", {}).items():
        found += _unbounded(spec, schemas, f"{name}.{field}", seen)
    if isinstance(schema.get("items"), dict):
        found += _unbounded(schema["items"], schemas, f"{name}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _unbounded(schema["additionalProperties"], schemas, f"{name}{{}}", seen)
    return found


def test_huge_generation_metrics_are_refused_not_a_500(start_service: StartService) -> None:
    api = start_service().client
    route = f"/api/v1/models/{TI2V}/performance"
    for field in ("height", "width", "num_frames", "steps"):
        metrics = {"generation_time_s": 3.0, field: 8e20}
        assert f"{field}" in _refused(api.post(route, json=metrics, headers=AUTH))["message"]
    _refused(api.post(route, json={"generation_time_s": 1e300}, headers=AUTH))
    fine = api.post(route, json={"generation_time_s": 3.0, "height": 720}, headers=AUTH)
    assert fine.status_code == 200, fine.text


def _not_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A plain file and a link to itself: paths below them fail with ENOTDIR and ELOOP."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    return a_file, loop


def test_bad_paths_to_adopt_are_refused_with_a_hint(
    start_service: StartService, tmp_path: Path
) -> None:
    api = start_service().client
    a_file, loop = _not_folders(tmp_path)
    for folder in (
        tmp_path / ("n" * 300) / "model",  # ENAMETOOLONG
        a_file / "model",  # ENOTDIR
        loop / "model",  # ELOOP
        tmp_path / "missing",
    ):
        answer = api.post(f"/api/v1/models/{TI2V}/adopt", json={"path": str(folder)}, headers=AUTH)
        body = _refused(answer, code="config-invalid")
        assert len(body["message"]) < 400, body  # a long path is shortened, not echoed


def test_bad_image_paths_are_refused_with_a_hint(
    start_service: StartService, tmp_path: Path
) -> None:
    api = start_service().client
    a_file, loop = _not_folders(tmp_path)
    for image in (f"/{'i' * 300}/x.png", f"{a_file}/x.png", f"{loop}/x.png"):
        job = {"model_id": TI2V, "prompt": "waves", "image": image}
        _refused(api.post("/api/v1/generate", json=job, headers=AUTH), code="input-not-found")
    job = {"model_id": TI2V, "prompt": "waves", "image": "~no-such-user-16/x.png"}
    _refused(api.post("/api/v1/generate", json=job, headers=AUTH), code="job-input-invalid")


def test_many_queued_jobs_as_the_download_completes_get_no_5xx(
    start_service: StartService,
) -> None:
    live = start_service()
    cap = live.client.put(
        "/api/v1/bandwidth", json={"limit_bytes_per_s": 1_500_000}, headers=AUTH
    )  # 6 MB: about four seconds
    assert cap.status_code == 200, cap.text
    started = live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH)
    assert started.status_code == 202, started.text
    statuses, request_ids = asyncio.run(_generate_until_ready(live))
    assert [s for s in statuses if s >= 500] == [], statuses
    assert set(statuses) <= {200, 202} and 202 in statuses and 200 in statuses, statuses
    # None is left waiting for a model that is here: each was released (or ran at once).
    deadline = time.monotonic() + 10
    while pending := live.client.get("/api/v1/requests", params={"model_id": TI2V}).json():
        assert time.monotonic() < deadline, pending
        time.sleep(0.1)
    for request_id in request_ids[:20]:
        state = live.client.get(f"/api/v1/requests/{request_id}").json()["state"]
        assert state == "released", state


async def _generate_until_ready(live: LiveService) -> tuple[list[int], list[str]]:
    """Queued jobs from many clients at once (each sends its next as soon as its last is
    answered), from before the model is ready until a second after."""
    job = {"model_id": TI2V, "prompt": "waves", "queue": True}
    statuses: list[int] = []
    request_ids: list[str] = []
    ready_at: list[float] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=str(live.client.base_url), headers=AUTH, timeout=60, limits=limits
    ) as client:

        def done() -> bool:
            past_ready = bool(ready_at) and time.monotonic() > ready_at[0]
            return past_ready or len(statuses) >= MAX_REQUESTS

        async def sender() -> None:
            while not done():
                answer = await client.post("/api/v1/generate", json=job)
                statuses.append(answer.status_code)
                if answer.status_code == 202:
                    request_ids.append(answer.json()["request_id"])

        async def watcher() -> None:
            deadline = time.monotonic() + 60
            while not ready_at:
                assert time.monotonic() < deadline, "the download did not complete"
                progress = (await client.get(f"/api/v1/models/{TI2V}/download")).json()
                if progress["status"] == "completed":
                    ready_at.append(time.monotonic() + 1.0)
                await asyncio.sleep(0.05)

        await asyncio.gather(watcher(), *(sender() for _ in range(CLIENTS)))
    return statuses, request_ids


def test_bandwidth_answer_matches_its_schema(start_service: StartService) -> None:
    api = start_service().client
    schema = openapi_document()["components"]["schemas"]["BandwidthPublic"]
    answer = api.get("/api/v1/bandwidth").json()
    assert set(answer) == set(schema["properties"]) == set(schema["required"])
    assert answer == {"limit_bytes_per_s": 0}
    assert schema["properties"]["limit_bytes_per_s"]["type"] == "integer"


def test_durations_are_numbers_of_seconds(start_service: StartService) -> None:
    live = start_service()
    schemas = openapi_document()["components"]["schemas"]
    for name, field in (
        ("StrategyPublic", "estimated_wait_time"),
        ("ModelStatusPublic", "estimated_download_time"),
    ):
        types = {s.get("type") for s in schemas[name]["properties"][field]["anyOf"]}
        assert types == {"number", "null"}, (name, field, types)
    assert '"format": "duration"' not in str(openapi_document()).replace("'", '"')
    strategy = live.client.get(f"/api/v1/models/{TI2V}/strategy").json()
    assert isinstance(strategy["estimated_wait_time"], float)  # was "PT0.8S"-like
    live.hub.set_faults([Fault.rate(1_000_000)])
    live.client.post(f"/api/v1/models/{TI2V}/download", headers=AUTH)
    deadline = time.monotonic() + 20
    while True:
        status = live.client.get(f"/api/v1/models/{TI2V}/status").json()
        if status["estimated_download_time"] is not None:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert isinstance(status["estimated_download_time"], float)
    live.client.post(f"/api/v1/models/{TI2V}/cancel", headers=AUTH)


def test_unreadable_bodies_get_the_projects_error_body(start_service: StartService) -> None:
    api = start_service().client
    json_header = {**AUTH, "Content-Type": "application/json"}
    syntax = api.put("/api/v1/bandwidth", content=b'{"limit_bytes_per_s": ', headers=json_header)
    assert "JSON" in _refused(syntax)["message"]
    not_utf8 = api.put("/api/v1/bandwidth", content=b"\xff\xfe{", headers=json_header)
    _refused(not_utf8, status=400, code="request-malformed")
    _refused(api.delete("/api/v1/bandwidth", headers=AUTH), 405, "method-not-allowed")
    _refused(api.get("/api/v1/no-such-route"), 404, "not-found")
    _refused(api.post("/api/v1/no-such-route", headers=AUTH), 405, "method-not-allowed")


def test_every_409_the_routes_answer_is_documented(start_service: StartService) -> None:
    api = start_service().client
    paths = openapi_document()["paths"]
    for method, path in (
        ("delete", "/api/v1/models/{model_id}"),
        ("post", "/api/v1/models/{model_id}/repair"),
        ("post", "/api/v1/models/{model_id}/rollback"),
        ("post", "/api/v1/models/{model_id}/update"),
    ):
        documented = paths[path][method]["responses"]
        assert "409" in documented, (method, path)
        assert documented["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorPublic"
        }
    # And they are real: a pinned model is not removed, nothing to roll back to.
    assert api.put(f"/api/v1/models/{TI2V}/pin", headers=AUTH).status_code == 200
    _refused(api.delete(f"/api/v1/models/{TI2V}", headers=AUTH), 409, "model-pinned")
    _refused(api.post(f"/api/v1/models/{TI2V}/rollback", headers=AUTH), 409, "no-previous-version")


def test_validation_errors_are_documented_with_the_projects_body() -> None:
    document = openapi_document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorPublic"}, (
                        method,
                        path,
                        status,
                    )
