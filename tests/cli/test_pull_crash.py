"""``modelward pull`` killed with SIGKILL mid-file resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.store import RepoLayout
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, sha256_of


def _env(tmp_path: Path, hub: DevHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HUB_CACHE=str(tmp_path / "cache"),
        MODELWARD_HOME=str(tmp_path / "home"),
    )
    return env


def _pull(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", "pull", TI2V],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_kill_9_mid_file_then_rerun_fetches_only_the_rest(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    layout = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO)
    partial = layout.incomplete_path(big.etag)
    threaded_hub.set_faults(FaultPlan([Fault.rate(500_000, path_glob="*" + big.path)]))
    env = _env(tmp_path, threaded_hub)

    first = _pull(env)
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size > big.size // 4):
        assert first.poll() is None, first.stdout.read() if first.stdout else ""
        assert time.monotonic() < deadline, "the first pull never got a quarter of the file"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    kept = partial.stat().st_size
    assert 0 < kept < big.size
    assert not layout.snapshot_path(manifest.commit, big.path).exists()

    threaded_hub.clear_faults()
    threaded_hub.clear_log()
    second = subprocess.run(
        [sys.executable, "-m", "modelward", "pull", TI2V], env=env, capture_output=True, timeout=120
    )
    assert second.returncode == 0, second.stdout.decode() + second.stderr.decode()

    body_requests = [
        r
        for r in threaded_hub.request_log
        if r.method == "GET" and r.bytes_sent and big.etag in r.path
    ]
    assert len(body_requests) == 1, body_requests
    assert body_requests[0].range == f"bytes={kept}-"
    assert body_requests[0].bytes_sent == big.size - kept
    assert sha256_of(layout.snapshot_path(manifest.commit, big.path)) == big.content_sha256
    assert_store_invariants(tmp_path / "cache")
