"""``serve`` and ``hub serve`` as real processes: they stop cleanly on SIGINT and SIGTERM,
also when a script started them in the background, and say which port is taken."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import _env

TMP = "{tmp}"  # replaced by the test's own folder
SERVERS = {
    "serve": ["serve", "--port", "0"],
    "hub serve": ["hub", "serve", "--port", "0", "--scale", "tiny", "--root", TMP],
}
READY = {"serve": r"service at http://127\.0\.0\.1:\d+", "hub serve": r"serving at http://"}

# A non-interactive shell starts a background job with SIGINT ignored (POSIX, "Signals" in
# the sh manual), and the job inherits that: exactly how `hub serve &` in a script runs.
BACKGROUND = 'log=$1; shift; "$@" >"$log" 2>&1 & echo $!; wait $!; echo "exit=$?"'
MODELWARD = [sys.executable, "-m", "modelward"]


def _start_in_background(
    argv: list[str], env: dict[str, str], log: Path
) -> tuple[subprocess.Popen[str], int]:
    shell = subprocess.Popen(
        ["sh", "-c", BACKGROUND, "sh", str(log), *argv], env=env, stdout=subprocess.PIPE, text=True
    )
    assert shell.stdout is not None
    return shell, int(shell.stdout.readline())


def _ignores_sigint(pid: int) -> bool:
    found = re.search(r"^SigIgn:\s*([0-9a-f]+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert found is not None
    return bool(int(found.group(1), 16) & (1 << (signal.SIGINT - 1)))


def _wait_for(log: Path, pattern: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, f"never saw {pattern!r}; log:\n{log.read_text()}"
        time.sleep(0.1)


def _stop(shell: subprocess.Popen[str], pid: int) -> None:
    if shell.poll() is None:
        os.kill(pid, signal.SIGKILL)
        shell.wait(10)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_background_job_of_a_script_ignores_sigint(tmp_path: Path) -> None:
    """The premise of the next test: a program started so has SIGINT ignored."""
    shell, pid = _start_in_background(["sleep", "30"], dict(os.environ), tmp_path / "log")
    try:
        deadline = time.monotonic() + 10  # the forked child sets it up just before exec
        while not _ignores_sigint(pid):
            assert time.monotonic() < deadline, "the background job does not ignore SIGINT"
            time.sleep(0.05)
    finally:
        _stop(shell, pid)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_background_server_stops_cleanly_on_a_signal(
    server: str, stop: signal.Signals, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    argv = [*MODELWARD, *(a.replace(TMP, str(tmp_path)) for a in SERVERS[server])]
    shell, pid = _start_in_background(argv, _env(tmp_path, "http://127.0.0.1:9"), log)
    try:
        _wait_for(log, READY[server])
        os.kill(pid, stop)
        out, _ = shell.communicate(timeout=30)
    finally:
        _stop(shell, pid)
    assert "exit=0" in out, log.read_text()
    assert "Traceback" not in log.read_text()
    assert not (tmp_path / "home" / "service.json").exists()  # withdrawn on the way out


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_taken_port_is_named_without_a_traceback(
    server: str, taken_port: int, tmp_path: Path
) -> None:
    """What a user saw: `serve` on a taken port printed two tracebacks."""
    args = [str(taken_port) if a == "0" else a.replace(TMP, str(tmp_path)) for a in SERVERS[server]]
    result = subprocess.run(
        [*MODELWARD, *args],
        env=_env(tmp_path, "http://127.0.0.1:9"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert f"port {taken_port} on 127.0.0.1 is in use" in said and "--port" in said
    assert "Traceback" not in result.stdout + result.stderr
