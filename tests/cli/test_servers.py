"""Long-running commands: ``hub serve`` and ``demo`` start, answer, and stop on a signal."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from modelward.cli import app


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
        assert out.count("✓") == 2, out
        url = re.search(r"service at (http://127\.0\.0\.1:\d+)", out)
        assert url, out
        statuses = httpx.get(f"{url.group(1)}/api/v1/models/status").json()["data"]
        states = {s["model_id"]: s["availability_status"] for s in statuses}
        assert states.pop("ti2v-5b") == "missing", states  # left for the walkthrough
        assert set(states.values()) == {"available"}, states
        assert re.search(r"ti2v-5b is left for you to pull .*\n.*pull ti2v-5b", out), out
        # The demo job before the pull is told to download; after it runs on the model.
        assert re.search(r"job before any pull: \S+ is missing", out), out
        assert re.search(r"the same job now: ran on (\S+)\n", out), out
        _assert_published_to_the_demo_mirror(out, tmp_path, {"t2v-a14b", "i2v-a14b"})
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) is not None


def _assert_published_to_the_demo_mirror(out: str, tmp_path: Path, pulled: set[str]) -> None:
    """The demo's service published each model it pulled to its SeaweedFS mirror: the
    walkthrough's exports reach the bucket, and `mirror list` there shows the repos."""
    assert re.search(r"team mirror \(SeaweedFS S3\) at s3://team/hf, endpoint http://", out)
    for model_id in pulled:
        assert re.search(rf"{model_id}: published to s3://team/hf \(\d+ files", out), out
    exports = re.search(r"export (AWS_ENDPOINT_URL=.*MODELWARD_MIRRORS=\S+)", out)
    assert exports, out
    env = _env(tmp_path) | dict(pair.split("=", 1) for pair in exports.group(1).split())
    listed = subprocess.run(
        [sys.executable, "-m", "modelward", "mirror", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    repos = {c["repo_id"] for c in json.loads(listed.stdout)["commits"]}
    assert repos == {"Wan-AI/Wan2.2-T2V-A14B-Diffusers", "Wan-AI/Wan2.2-I2V-A14B-Diffusers"}


def test_demo_names_hub_port_when_the_hub_port_is_taken(tmp_path: Path) -> None:
    """What a user saw: `demo --hub-port <taken>` told them to choose another `--port`."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = str(holder.getsockname()[1])
        args = ["demo", "--hub-port", taken, "--scale", "tiny", "--root", str(tmp_path / "demo")]
        result = CliRunner().invoke(app, args, env=_env(tmp_path), prog_name="modelward")
    assert result.exit_code == 2, result.output
    assert f"port {taken} on 127.0.0.1 is in use" in result.stderr
    assert "--hub-port" in result.stderr and "--port " not in result.stderr
