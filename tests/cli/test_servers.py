"""Long-running commands: ``hub serve`` and ``demo`` start, answer, and stop on a signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout_s: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    proc.kill()
    raise AssertionError(f"never saw {pattern!r}; output:\n{''.join(seen)}")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    # The demo also registers in the default home: keep it inside the test's folder.
    env.update(
        MODELWARD_HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"), COLUMNS="300"
    )
    return env


def test_hub_serve_speaks_the_protocol(tmp_path: Path) -> None:
    proc = _start(["hub", "serve", "--port", "0", "--root", str(tmp_path / "hub")], _env(tmp_path))
    try:
        out = _wait_for_line(proc, r"http://127\.0\.0\.1:\d+", 60)
        url = re.search(r"http://127\.0\.0\.1:\d+", out)
        assert url
        info = httpx.get(f"{url.group(0)}/api/models/Wan-AI/Wan2.2-TI2V-5B-Diffusers").json()
        assert len(info["sha"]) == 40 and info["siblings"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_demo_serves_the_pulled_catalog(tmp_path: Path) -> None:
    proc = _start(
        ["demo", "--port", "0", "--scale", "tiny", "--root", str(tmp_path / "demo")], _env(tmp_path)
    )
    try:
        out = _wait_for_line(proc, r"Ctrl-C stops the demo", 120)
        assert out.count("✓") == 3, out
        url = re.search(r"service at (http://127\.0\.0\.1:\d+)", out)
        assert url, out
        statuses = httpx.get(f"{url.group(1)}/api/v1/models/status").json()["data"]
        assert {s["availability_status"] for s in statuses} == {"available"}
        # The demo job before the pull is told to download; after it runs on the model.
        assert re.search(r"job before any pull: \S+ is missing", out), out
        assert re.search(r"the same job now: ran on (\S+)\n", out), out
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) is not None
