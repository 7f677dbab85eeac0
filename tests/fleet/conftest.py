"""Nodes of a fleet for the tests: real ``modelward serve`` processes (their own homes,
stores, node names and ports) on one real PostgreSQL database, against the local hub."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelward.devhub import DevHub
from tests.pg import PostgresServer

HEARTBEAT_S = 0.5


@dataclass
class Node:
    """One ``modelward serve`` subprocess of the fleet."""

    name: str
    proc: subprocess.Popen[str]
    env: dict[str, str]
    home: Path
    url: str
    token: str

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelward", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(20)


StartNode = Callable[..., Node]


def until(check: Callable[[], Any], timeout_s: float = 60, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every_s)
    return found


def _node_env(root: Path, hub: DevHub, name: str, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HUB_CACHE=str(root / name / "cache"),
        MODELWARD_HOME=str(root / name / "home"),
        MODELWARD_NODE_NAME=name,
        MODELWARD_NODE_HEARTBEAT=str(HEARTBEAT_S),
        COLUMNS="200",
    )
    if database_url is not None:
        env["MODELWARD_DATABASE_URL"] = database_url
    return env


def _serve(name: str, env: dict[str, str]) -> Node:
    home = Path(env["MODELWARD_HOME"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelward", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (home / "service.json").exists():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "serve never wrote service.json"
        time.sleep(0.05)
    info = json.loads((home / "service.json").read_text())
    token = (home / "api-token").read_text().strip()
    return Node(name, proc, env, home, info["url"], token)


@pytest.fixture
def start_node(tmp_path: Path, threaded_hub: DevHub) -> Iterator[StartNode]:
    """Start a node of the fleet: ``start_node(name, database_url)``."""
    started: list[Node] = []

    def start(name: str, database_url: str | None, **env: str) -> Node:
        node = _serve(name, _node_env(tmp_path, threaded_hub, name, database_url) | env)
        started.append(node)
        return node

    yield start
    for node in started:
        with contextlib.suppress(Exception):
            node.stop()


@pytest.fixture
def fleet_db(postgres: PostgresServer) -> str:
    """A database of its own on the session's PostgreSQL, shared by this test's nodes."""
    return postgres.create_database()
