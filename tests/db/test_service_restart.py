"""A real ``modelward serve`` on PostgreSQL, whose server restarts in the middle of a pull:
the download completes verified, its outcome, queue entry and audit record are all there,
and every answer the service gave meanwhile was a success."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from modelward.db import audit_log, download_outcomes, downloads
from modelward.devhub import DevHub
from tests.conftest import TI2V, TI2V_REPO, sha256_of
from tests.pg import PostgresServer

RATE = 800_000
"""Bytes per second the service may pull: the tiny ti2v-5b (5.9 MB) takes about 7 s."""


@dataclass
class Service:
    """A ``modelward serve`` subprocess and how to ask it things."""

    proc: subprocess.Popen[str]
    url: str
    token: str
    database_url: str
    answers: list[tuple[str, int]] = field(default_factory=list)

    def api(self, method: str, path: str) -> httpx.Response:
        """One request; every answer's status is kept."""
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = httpx.request(method, self.url + path, headers=headers, timeout=90)
        self.answers.append((f"{method} {path}", answer.status_code))
        return answer


@pytest.fixture
def service(tmp_path: Path, threaded_hub: DevHub, postgres: PostgresServer) -> Iterator[Service]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        HF_ENDPOINT=threaded_hub.url,
        HF_HUB_CACHE=str(tmp_path / "cache"),
        MODELWARD_HOME=str(tmp_path / "home"),
        MODELWARD_DATABASE_URL=postgres.create_database(),
        MODELWARD_BANDWIDTH_LIMIT=f"{RATE}B/s",
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelward", "serve", "--port", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    registered = tmp_path / "home" / "service.json"
    deadline = time.monotonic() + 30
    while not registered.exists():
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "serve never wrote service.json"
        time.sleep(0.05)
    token = (tmp_path / "home" / "api-token").read_text().strip()
    try:
        info = json.loads(registered.read_text())
        yield Service(proc, info["url"], token, env["MODELWARD_DATABASE_URL"])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        log.close()


def _progress(service: Service) -> dict[str, object]:
    answer = service.api("GET", f"/api/v1/models/{TI2V}/download")
    assert answer.status_code == 200, answer.text
    progress: dict[str, object] = answer.json()
    return progress


def _wait_for_some_bytes(service: Service) -> None:
    deadline = time.monotonic() + 30
    while True:
        progress = _progress(service)
        if progress["status"] == "downloading" and int(str(progress["downloaded_bytes"])) > 0:
            return
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)


def test_a_postgresql_restart_mid_download_loses_nothing(
    service: Service, threaded_hub: DevHub, postgres: PostgresServer, tmp_path: Path
) -> None:
    assert service.api("POST", f"/api/v1/models/{TI2V}/download").status_code == 202
    _wait_for_some_bytes(service)
    engine = create_engine(service.database_url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            queued = conn.execute(select(downloads.c.model_id, downloads.c.state)).all()
        assert queued == [(TI2V, "downloading")]

        # Polled all along, so the service is asked things while the server is away.
        polling = threading.Event()
        seen: list[dict[str, object]] = []

        def poll() -> None:
            while not polling.is_set():
                seen.append(_progress(service))
                service.api("GET", f"/api/v1/models/{TI2V}/status")
                time.sleep(0.2)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            postgres.restart(down_s=3)
            assert _progress(service)["status"] == "downloading"  # it ran across the restart
            deadline = time.monotonic() + 90
            while seen[-1:] == [] or seen[-1]["status"] not in ("completed", "failed"):
                assert time.monotonic() < deadline, seen[-1:]
                time.sleep(0.1)
        finally:
            polling.set()
            poller.join(120)

        assert seen[-1]["status"] == "completed", seen[-1]
        # The restart did break the service's connections, and it rode them out.
        assert "database connection lost" in (tmp_path / "serve.log").read_text()
        assert [a for a in service.answers if a[1] >= 400] == []

        status = service.api("GET", f"/api/v1/models/{TI2V}/status").json()
        assert status["availability_status"] == "available" and status["missing_files"] == []
        manifest = threaded_hub.manifest(TI2V_REPO)
        snapshot = next((tmp_path / "cache").glob("models--*TI2V*/snapshots/*"))
        for file in manifest.files:
            assert sha256_of(snapshot / file.path) == file.content_sha256, file.path

        size = sum(f.size for f in manifest.files)
        deadline = time.monotonic() + 30
        with engine.connect() as conn:
            while not (outcomes := conn.execute(select(download_outcomes)).all()):
                assert time.monotonic() < deadline, "no download outcome was recorded"
                time.sleep(0.1)
            assert [(o.model_id, o.status, o.bytes_fetched) for o in outcomes] == [
                (TI2V, "completed", size)
            ]
            assert conn.execute(select(downloads)).all() == []  # a completed job leaves
            asked = conn.execute(
                select(audit_log.c.action, audit_log.c.actor, audit_log.c.outcome).where(
                    audit_log.c.model_id == TI2V
                )
            ).all()
        assert asked == [("start-download", "service", "ok")]  # the token's name
    finally:
        engine.dispose()
