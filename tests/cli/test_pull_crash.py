"""A service killed with SIGKILL mid-file (while ``modelward pull`` follows it) resumes
where it stopped: the next pull starts a new service, which fetches only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.store import RepoLayout
from modelward.store.records import load_partial
from tests.cli.conftest import store_env
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, over_https, sha256_of


def _pull(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", "pull", TI2V],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _recorded_ranges(layout: RepoLayout, blob: str) -> list[tuple[int, int]]:
    """What a rerun will trust: page-cache ranges too, since the machine did not restart."""
    record = load_partial(layout, blob)
    return list(record.trusted_ranges()) if record else []


@over_https
def test_kill_9_mid_file_then_rerun_fetches_only_the_rest(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    layout = RepoLayout(tmp_path / "cache", tmp_path / "home", TI2V_REPO)
    threaded_hub.set_faults(FaultPlan([Fault.rate(100_000, path_glob="*" + big.path)]))
    env = store_env(tmp_path, threaded_hub.url)
    env["MODELWARD_SEGMENT_BYTES"] = str(128 * 1024)

    first = _pull(env)
    deadline = time.monotonic() + 60
    while sum(e - s for s, e in _recorded_ranges(layout, big.etag)) < big.size // 4:
        assert first.poll() is None, first.stdout.read() if first.stdout else ""
        assert time.monotonic() < deadline, "the first pull never got a quarter of the file"
        time.sleep(0.02)
    service = json.loads((tmp_path / "home" / "service.json").read_text())["pid"]
    os.kill(service, signal.SIGKILL)  # the process that downloads: the service
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 1, out  # the pull says its service went away
    assert b"service" in out
    recorded = _recorded_ranges(layout, big.etag)
    kept = sum(e - s for s, e in recorded)
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
    assert body_requests
    # Only what the killed run had not recorded is asked for, and nothing twice.
    assert sum(r.bytes_sent for r in body_requests) == big.size - kept
    for r in body_requests:
        assert r.range is not None
        start, _, end = r.range.removeprefix("bytes=").partition("-")
        asked = (int(start), int(end) + 1 if end else big.size)
        assert not any(asked[0] < e and s < asked[1] for s, e in recorded), (asked, recorded)
    assert sha256_of(layout.snapshot_path(manifest.commit, big.path)) == big.content_sha256
    assert_store_invariants(tmp_path / "cache")
