"""A ``modelward serve`` subprocess and the helpers CLI tests share."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from modelward.devhub import DevHub


@dataclass
class Served:
    """A ``modelward serve`` subprocess and what a client needs to reach it."""

    proc: subprocess.Popen[str]
    env: dict[str, str]
    home: Path
    url: str
    token: str

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return _run(self.env | env, *args)

    def api(self, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10)


def store_env(tmp_path: Path, hub_url: str) -> dict[str, str]:
    """This environment without HF_/MODELWARD_ settings, pointed at the hub and a store
    (``cache`` and ``home``) under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        HF_ENDPOINT=hub_url,
        HF_HUB_CACHE=str(tmp_path / "cache"),
        MODELWARD_HOME=str(tmp_path / "home"),
    )
    return env


def _env(tmp_path: Path, hub_url: str) -> dict[str, str]:
    return store_env(tmp_path, hub_url) | {"COLUMNS": "200"}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelward", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _start_serve(env: dict[str, str], home: Path) -> Served:
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
    assert info["pid"] == proc.pid
    token = (home / "api-token").read_text().strip()
    return Served(proc, env, home, info["url"], token)


def stop_services_under(root: Path) -> None:
    """Stop every service registered under ``root`` (ones CLI commands started on demand
    too), and wait until each is gone."""
    for path in root.rglob("service.json"):
        try:
            pid = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == os.getpid():
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):  # a child of this process: reap it
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True)
def _no_service_outlives_its_test(tmp_path: Path) -> Iterator[None]:
    yield
    stop_services_under(tmp_path)


@pytest.fixture
def served(tmp_path: Path, threaded_hub: DevHub) -> Iterator[Served]:
    service = _start_serve(_env(tmp_path, threaded_hub.url), tmp_path / "home")
    try:
        yield service
    finally:
        if service.proc.poll() is None:
            service.proc.send_signal(signal.SIGINT)
            service.proc.wait(20)
