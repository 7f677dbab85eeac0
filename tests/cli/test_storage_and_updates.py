"""pin, unpin, rm, cleanup and update as a user runs them: subprocesses on a real store,
the local hub in a thread; one ``kill -9`` in the middle of an update."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelward.devhub import DevHub, Fault, FaultPlan
from tests.cli.conftest import Served, _env, _run, _start_serve
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants


def _status(env: dict[str, str], model: str = TI2V) -> dict[str, object]:
    done = _run(env, "status", model, "--json", "--offline")
    assert done.returncode == 0, done.stderr
    [status] = json.loads(done.stdout)
    return status  # type: ignore[no-any-return]


def test_pin_rm_and_cleanup_without_a_service(tmp_path: Path, threaded_hub: DevHub) -> None:
    env = _env(tmp_path, threaded_hub.url)
    assert _run(env, "pull", TI2V).returncode == 0
    pinned = _run(env, "pin", TI2V)
    assert pinned.returncode == 0 and f"{TI2V} is pinned." in pinned.stdout
    refused = _run(env, "rm", TI2V, "--yes")
    assert refused.returncode == 1 and "model-pinned" in refused.stderr
    assert "unpin" in refused.stderr
    plan = _run(env, "cleanup", "--keep-recent-days", "0")
    assert plan.returncode == 0 and "keep" in plan.stdout and "pinned" in plan.stdout
    assert _run(env, "unpin", TI2V).returncode == 0

    dry = _run(env, "cleanup", "--keep-recent-days", "0", "--json")
    body = json.loads(dry.stdout)
    assert body["dry_run"] and [c["model_id"] for c in body["removed"]] == [TI2V]
    assert _status(env)["availability_status"] == "available"  # a dry run changes nothing

    shown = _run(env, "rm", TI2V, "--dry-run")
    assert shown.returncode == 0 and "would free" in shown.stdout
    said_no = subprocess.run(
        [sys.executable, "-m", "modelward", "rm", TI2V],
        env=env,
        input="n\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert said_no.returncode == 1 and "nothing removed" in said_no.stderr
    assert _status(env)["availability_status"] == "available"
    removed = _run(env, "rm", TI2V, "--yes")
    assert removed.returncode == 0 and "freed" in removed.stdout
    assert _status(env)["availability_status"] == "missing"
    assert_store_invariants(tmp_path / "cache")


def test_cleanup_goes_through_the_running_service(served: Served) -> None:
    assert served.api("POST", f"/api/v1/models/{TI2V}/download").status_code == 202
    deadline = time.monotonic() + 60
    while served.api("GET", f"/api/v1/models/{TI2V}/download").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    plan = served.run("cleanup", "--keep-recent-days", "0", "--target-free", "1MB", "--json")
    assert plan.returncode == 0, plan.stderr
    body = json.loads(plan.stdout)
    # Enough is free already: nothing needs to go, and the plan says so.
    assert body["removed"] == [] and "target free space" in body["kept"][0]["reason"]
    storage = served.api("GET", "/api/v1/storage").json()
    assert storage["free_bytes"] > 0 and [m["model_id"] for m in storage["models"]] == [TI2V]
    # update goes through the service too (it serves the model and counts its jobs)
    checked = served.run("update", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert [(c["model_id"], c["update_available"]) for c in json.loads(checked.stdout)] == [
        (TI2V, False)
    ]
    policy = served.run("update", "policy", TI2V, "ask")
    assert policy.returncode == 0 and "update policy ask" in policy.stdout
    assert served.api("GET", f"/api/v1/models/{TI2V}/versions").json()["policy"] == "ask"
    nothing = served.run("update", "rollback", TI2V)
    assert nothing.returncode == 1 and "no-previous-version" in nothing.stderr


def test_kill_9_during_an_update_leaves_the_old_version_served(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    assert _run(env, "pull", TI2V).returncode == 0
    old = threaded_hub.manifest(TI2V_REPO).commit
    checked = _run(env, "update", "check")
    assert checked.returncode == 0 and TI2V in checked.stdout
    new = threaded_hub.bump_commit(TI2V_REPO)
    found = _run(env, "update", "check", "--json")
    assert json.loads(found.stdout)[0]["update_available"]

    threaded_hub.set_faults(FaultPlan([Fault.rate(50_000)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelward", "update", "apply", TI2V],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    blobs = tmp_path / "cache" / f"models--{TI2V_REPO.replace('/', '--')}" / "blobs"
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 0 for p in blobs.glob("*.incomplete")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    # The update runs in the service (started on demand by the pull): kill that.
    os.kill(json.loads((tmp_path / "home" / "service.json").read_text())["pid"], signal.SIGKILL)
    assert proc.wait(30) == 1  # the command says its service went away
    threaded_hub.clear_faults()

    assert_store_invariants(tmp_path / "cache")
    status = _status(env)
    assert status["availability_status"] == "available" and status["current_version"] == old
    assert str(status["local_path"]).endswith(old)
    again = _run(env, "update", "apply", TI2V)
    assert again.returncode == 0 and "now serving" in again.stdout, again.stderr
    assert _status(env)["current_version"] == new
    back = _run(env, "update", "rollback", TI2V)
    assert back.returncode == 0 and f"serving {old[:12]} again" in back.stdout
    assert _status(env)["current_version"] == old


def test_adopt_a_folder_then_fetch_only_what_it_lacked(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    elsewhere = _env(tmp_path / "elsewhere", threaded_hub.url)
    assert _run(elsewhere, "pull", TI2V).returncode == 0
    snapshot = Path(str(_status(elsewhere)["local_path"]))
    folder = tmp_path / "folder"
    shutil.copytree(snapshot, folder, symlinks=False)
    biggest = max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    with biggest.open("r+b") as fh:
        fh.write(b"\0" * 16)  # this one does not match and is fetched

    env = _env(tmp_path, threaded_hub.url)
    threaded_hub.clear_log()
    done = _run(env, "adopt", str(folder), TI2V)
    assert done.returncode == 0, done.stderr
    assert "checksum-mismatch" in done.stdout and "1 to fetch" in done.stdout
    assert _status(env)["availability_status"] == "available"
    fetched = [r.path for r in threaded_hub.request_log if "/api/" not in r.path]
    name = biggest.relative_to(folder).as_posix()
    sha = threaded_hub.manifest(TI2V_REPO).file(name).content_sha256
    assert fetched and all(p.endswith(name) or p.endswith(sha) for p in fetched), fetched
    assert (folder / "model_index.json").is_file()  # --link leaves the folder whole


def test_analytics_shows_the_jobs_of_the_demo_generator(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    assert _run(env, "pull", TI2V).returncode == 0
    assert _run(env, "service", "stop").returncode == 0  # the pull's; one service per home
    service = _start_serve(env, tmp_path / "home")
    try:
        for _ in range(2):
            ran = service.run("request", "run", TI2V, "--prompt", "x", "--no-queue")
            assert ran.returncode == 0, ran.stderr
    finally:
        service.proc.send_signal(signal.SIGINT)
        service.proc.wait(20)
    shown = _run(env, "analytics", "--days", "7")
    assert shown.returncode == 0, shown.stderr
    assert TI2V in shown.stdout and "100%" in shown.stdout
    report = json.loads(_run(env, "analytics", "--json").stdout)
    assert report["total_uses"] == 2
