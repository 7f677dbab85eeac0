"""Commands that steer a running ``modelward serve``, as a user runs them: subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelward.devhub import DevHub, Fault, FaultPlan
from tests.cli.conftest import Served, _env, _run
from tests.conftest import TI2V


def _wait_for_partial_data(served: Served) -> None:
    deadline = time.monotonic() + 30
    while True:
        progress = served.api("GET", f"/api/v1/models/{TI2V}/download").json()
        files = progress.get("files", {}).values()
        if progress["status"] == "downloading" and any(
            0 < f["done_bytes"] < f["total_bytes"] for f in files
        ):
            return
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)


def test_commands_steer_a_download_in_the_service(served: Served, threaded_hub: DevHub) -> None:
    threaded_hub.set_faults(FaultPlan([Fault.rate(100_000)]))
    assert served.api("POST", f"/api/v1/models/{TI2V}/download").status_code == 202
    _wait_for_partial_data(served)

    paused = served.run("pause", TI2V)
    assert paused.returncode == 0, paused.stderr
    assert f"paused {TI2V}" in paused.stdout
    queue = served.run("queue")
    assert queue.returncode == 0, queue.stderr
    assert TI2V in queue.stdout and "paused" in queue.stdout

    raised = served.run("priority", TI2V, "HIGH")
    assert raised.returncode == 0, raised.stderr
    assert "priority high" in raised.stdout
    listed = json.loads(served.run("queue", "--json").stdout)
    assert [(e["model_id"], e["priority"], e["position"]) for e in listed] == [(TI2V, "high", 1)]

    resumed = served.run("resume", TI2V, "-v")
    assert resumed.returncode == 0 and f"resumed {TI2V}" in resumed.stdout
    _wait_for_partial_data(served)
    cancelled = served.run("cancel", TI2V)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"cancelled {TI2V}; freed" in cancelled.stdout


def test_limit_sets_and_shows_the_cap(served: Served, tmp_path: Path) -> None:
    catalog = tmp_path / "extra.toml"
    catalog.write_text('[models.small]\nrepo = "org/small"\nrevision = "main"\n')
    changed = served.run("limit", "20MB/s", "--catalog", str(catalog))
    assert changed.returncode == 0, changed.stderr
    assert "bandwidth limit: 20.0 MB/s" in changed.stdout
    assert served.api("GET", "/api/v1/bandwidth").json() == {"limit_bytes_per_s": 20_000_000}
    assert "20.0 MB/s" in served.run("limit").stdout
    bits = served.run("limit", "160Mbit/s")
    assert "bandwidth limit: 20.0 MB/s" in bits.stdout  # bits are shown as bytes
    assert "unlimited" in served.run("limit", "0").stdout
    assert served.api("GET", "/api/v1/bandwidth").json() == {"limit_bytes_per_s": 0}
    own = served.run("limit", "5MiB/s", "--model", TI2V)
    assert own.returncode == 0 and f"bandwidth limit of {TI2V}: 5.24 MB/s" in own.stdout

    for bad_rate in ("20", "fast", "20Mb/s", "5TB/s"):
        bad = served.run("limit", bad_rate)
        assert bad.returncode == 2, (bad_rate, bad.stderr)
        assert "config-invalid" in bad.stderr and "next step" in bad.stderr
        assert "Traceback" not in bad.stderr
    assert served.api("GET", "/api/v1/bandwidth").json() == {"limit_bytes_per_s": 0}


def test_a_rate_without_a_unit_is_refused_naming_the_forms(tmp_path: Path) -> None:
    # Refused before any service is looked for: `limit 20` once set 20 bytes/s.
    refused = _run(_env(tmp_path, "http://127.0.0.1:9"), "limit", "20")
    assert refused.returncode == 2, refused.stderr
    said = " ".join(refused.stderr.split())
    assert "'20' has no unit" in said
    for form in ("20MB/s", "160Mbit/s", "1.5GiB/s"):
        assert form in said


def test_service_errors_print_as_an_error_with_the_next_step(served: Served) -> None:
    unknown = served.run("pause", "nope")
    assert unknown.returncode == 2  # bad input, whichever side found it
    assert "model-unknown" in unknown.stderr and "next step" in unknown.stderr
    assert TI2V in unknown.stderr  # the hint lists the known ids

    refused = served.run("cancel", TI2V, MODELWARD_TOKEN="wrong")
    assert refused.returncode == 1
    assert "unauthorized" in refused.stderr and "MODELWARD_TOKEN" in refused.stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_service_file_goes_when_the_service_stops(served: Served, stop: int) -> None:
    served.proc.send_signal(stop)
    assert served.proc.wait(20) == 0
    assert not (served.home / "service.json").exists()
    gone = served.run("queue")  # the stored queue, and that nothing runs
    assert gone.returncode == 0 and "no modelward service runs" in " ".join(gone.stderr.split())


# Downloads run only in a service: with none, stopping one is a no-op (exit 0), continuing or
# re-ranking one is refused with the command that starts it; either way the user is told.
COMMANDS = [
    (("pause", TI2V), 0),
    (("resume", TI2V), 1),
    (("cancel", TI2V), 0),
    (("priority", TI2V, "high"), 1),
    (("queue",), 0),
]


@pytest.mark.parametrize(("args", "code"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_without_a_service_every_command_says_so(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    result = _run(_env(tmp_path, "http://127.0.0.1:9"), *args)
    assert result.returncode == code, result.stderr
    said = " ".join(result.stderr.split())
    assert "no modelward service runs" in said and "nothing is downloading" in said
    if code:
        assert "service-not-running" in said and "next step" in said


def test_a_stale_service_file_means_no_service(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    env = _env(tmp_path, "http://127.0.0.1:9")

    (home / "service.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": dead.pid}))
    stale = _run(env, "resume", TI2V)
    assert stale.returncode == 1 and "service-not-running" in stale.stderr
    assert "no modelward service runs" in " ".join(stale.stderr.split())

    # A live process (this one) but nothing listening: no service either.
    (home / "service.json").write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()})
    )
    refused = _run(env, "resume", TI2V)
    assert refused.returncode == 1 and "service-not-running" in refused.stderr
    assert "no modelward service runs" in " ".join(refused.stderr.split())


def test_pull_takes_a_rate_limit_and_a_connection_count(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    size_bytes = sum(f.size for f in threaded_hub.manifest("Wan-AI/Wan2.2-TI2V-5B-Diffusers").files)
    pulled = _run(env, "pull", TI2V, "--limit", "2MB/s", "--connections", "2")
    assert pulled.returncode == 0, pulled.stderr
    took = re.search(r"fetched in ([\d.]+) s", pulled.stdout)
    assert took, pulled.stdout
    seconds = float(took.group(1))
    # A cap can only slow a download: at 2 MB/s it needs most of size / rate (a burst of
    # a quarter second aside), where the loopback alone takes a fraction of a second.
    assert seconds >= 0.6 * size_bytes / 2e6, pulled.stdout

    bad = _run(env, "pull", TI2V, "--limit", "lots")
    assert bad.returncode == 2 and "config-invalid" in bad.stderr
    unitless = _run(env, "pull", TI2V, "--limit", "2")
    assert unitless.returncode == 2 and "has no unit" in unitless.stderr


def test_request_commands_queue_list_cancel_and_wait_for_a_model(
    served: Served, threaded_hub: DevHub
) -> None:
    threaded_hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    queued = served.run("request", "run", TI2V, "--prompt", "waves at dusk")
    assert queued.returncode == 0, queued.stderr
    assert "queued as" in queued.stdout and "position 1" in queued.stdout
    request_id = queued.stdout.split("queued as ", 1)[1].split()[0]
    listed = served.run("request", "list")
    assert request_id in listed.stdout and "waves at dusk" in listed.stdout
    shown = json.loads(served.run("request", "show", request_id).stdout)
    assert shown["state"] == "queued" and shown["model_id"] == TI2V
    cancelled = served.run("request", "cancel", request_id)
    assert cancelled.returncode == 0 and "is cancelled" in cancelled.stdout
    assert "no job is waiting" in served.run("request", "list").stdout

    threaded_hub.clear_faults()
    ran = served.run("request", "run", TI2V, "--prompt", "waves", "--wait")
    assert ran.returncode == 0, ran.stderr
    assert f"ran on {TI2V}" in ran.stdout and "output:" in ran.stdout
    instead = served.run("request", "run", "t2v-a14b", "--prompt", "a forest", "--no-queue")
    assert instead.returncode == 0, instead.stderr
    assert f"ran on {TI2V} instead of t2v-a14b" in instead.stdout
    assert "modelward pull t2v-a14b" in instead.stdout

    status = served.run("status", "--offline")
    assert "text-to-video" in status.stdout and "image-to-video" in status.stdout
    missing = served.run("request", "show", "nope")
    assert missing.returncode != 0 and "nope" in missing.stderr
