"""The service's life as processes see it: one service per home, stopping only that service,
lock waits that end in an error, pull's options and cap, and cancel and queue with no
service. Real subprocesses, a real local hub, real files."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelward.catalog.catalog import Catalog
from modelward.catalog.remembered import RememberedEntries, RepoRequest
from modelward.cli.background import start_on_demand
from modelward.cli.discovery import LOCK_FILE, service_file
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import StoreLockedError
from modelward.settings import Settings
from tests.cli.conftest import Served, _env, _run, _start_serve
from tests.conftest import TI2V, TI2V_REPO

SLOW = FaultPlan([Fault.rate(100_000)])


def _said(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join(result.stderr.split())


def _serve(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process unrelated to modelward, alive for the test (its pid is "reused")."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], text=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding the file lock at ``path`` until killed."""
    code = (
        "import filelock, sys, time\n"
        f"lock = filelock.FileLock({str(path)!r}); lock.acquire()\n"
        "print('held', flush=True); time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


# -- one service per home -------------------------------------------------------------------


def test_a_second_serve_for_the_same_home_is_refused_naming_the_first(served: Served) -> None:
    second = served.run("serve", "--port", "0")
    assert second.returncode == 2, second.stderr
    said = _said(second)
    assert "service-already-running" in said and "Traceback" not in said
    assert f"at {served.url} (pid {served.proc.pid})" in said
    assert "modelward service stop" in said
    assert served.proc.poll() is None  # the first one goes on
    assert json.loads(service_file(served.home).read_text())["pid"] == served.proc.pid


def test_two_serves_started_together_leave_one_service(tmp_path: Path) -> None:
    env = _env(tmp_path, "http://127.0.0.1:9")
    first, second = _serve(env), _serve(env)
    try:
        deadline = time.monotonic() + 30
        while first.poll() is None and second.poll() is None:
            assert time.monotonic() < deadline, "neither serve was refused"
            time.sleep(0.05)
        refused, kept = (first, second) if first.poll() is not None else (second, first)
        _, err = refused.communicate(timeout=10)
        assert refused.returncode == 2, err
        assert "service-already-running" in err and "Traceback" not in err
        while not service_file(tmp_path / "home").exists():
            assert kept.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        registered = json.loads(service_file(tmp_path / "home").read_text())
        assert registered["pid"] == kept.pid
        assert httpx.get(registered["url"] + "/healthz", timeout=5).json()["pid"] == kept.pid
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=20)


# -- stopping only the service --------------------------------------------------------------


def test_healthz_names_the_process_and_home(served: Served) -> None:
    health = served.api("GET", "/healthz").json()
    assert health["pid"] == served.proc.pid
    assert health["home"] == str(served.home)


def test_stop_after_a_crash_does_not_signal_a_reused_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # A service crashed without withdrawing its file, and its pid went to another program.
    record = {"url": "http://127.0.0.1:9", "pid": holder.pid, "home": str(home)}
    service_file(home).write_text(json.dumps(record))
    stopped = _run(_env(tmp_path, "http://127.0.0.1:9"), "service", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"pid {holder.pid} was not signalled" in _said(stopped)
    time.sleep(0.3)
    assert holder.poll() is None  # still alive: it never got SIGTERM
    assert not service_file(home).exists()  # the stale registration is gone


def test_stop_refuses_when_the_answering_service_is_another_process(
    tmp_path: Path, served: Served, holder: subprocess.Popen[str]
) -> None:
    other = tmp_path / "other-home"
    other.mkdir()
    record = {"url": served.url, "pid": holder.pid, "home": str(other)}
    service_file(other).write_text(json.dumps(record))
    refused = _run(served.env | {"MODELWARD_HOME": str(other)}, "service", "stop")
    assert refused.returncode == 1, refused.stderr
    said = _said(refused)
    assert "service-not-ours" in said and f"pid {served.proc.pid}" in said
    assert holder.poll() is None and served.proc.poll() is None


def test_stop_leaves_a_hung_service_to_the_user(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    record = {"url": "http://127.0.0.1:9", "pid": holder.pid, "home": str(home)}
    service_file(home).write_text(json.dumps(record))
    hung = _hold_lock(home / LOCK_FILE)  # it holds the service lock but answers nothing
    try:
        refused = _run(_env(tmp_path, "http://127.0.0.1:9"), "service", "stop")
    finally:
        hung.kill()
        hung.wait(10)
    assert refused.returncode == 1, refused.stderr
    said = _said(refused)
    assert "does not answer" in said and f"'kill {holder.pid}'" in said
    assert holder.poll() is None and service_file(home).exists()


# -- lock waits end in an error --------------------------------------------------------------


def test_a_held_start_lock_ends_in_store_locked(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", home=tmp_path / "home")
    settings.home.mkdir()
    starting = _hold_lock(settings.home / ".service-start.lock")
    try:
        with pytest.raises(StoreLockedError) as caught:
            start_on_demand(settings, lock_timeout_s=0.3)
    finally:
        starting.kill()
        starting.wait(10)
    assert "starting the service" in caught.value.message and caught.value.hint
    assert not service_file(settings.home).exists()  # nothing was started


def test_a_held_remembered_lock_ends_in_store_locked(tmp_path: Path) -> None:
    entries = RememberedEntries(tmp_path / "remembered.toml", lock_timeout_s=0.3)
    other = _hold_lock(tmp_path / "remembered.toml.lock")
    try:
        with pytest.raises(StoreLockedError) as caught:
            entries.remember(Catalog(), RepoRequest(TI2V_REPO))
    finally:
        other.kill()
        other.wait(10)
    assert str(entries.path) in caught.value.message
    assert caught.value.code == "store-locked"


# -- pull's options and cap -----------------------------------------------------------------


def test_pull_refuses_a_store_hub_or_catalog_the_running_service_does_not_use(
    served: Served, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    catalog = tmp_path / "extra.toml"
    catalog.write_text('[models.small]\nrepo = "org/small"\nrevision = "main"\n')
    for option, value in (
        ("--cache-dir", str(elsewhere)),
        ("--endpoint", "http://127.0.0.1:1"),
        ("--catalog", str(catalog)),
    ):
        refused = served.run("pull", TI2V, option, value)
        assert refused.returncode == 2, (option, refused.stderr)
        said = _said(refused)
        assert "config-invalid" in said and f"{option} {value}" in said
        assert "modelward service stop" in said and "Traceback" not in said
    assert not elsewhere.exists()  # nothing went to a store the pull did not ask for
    assert served.api("GET", f"/api/v1/models/{TI2V}/download").json()["downloaded_bytes"] == 0

    same = served.run("pull", TI2V, "--cache-dir", served.env["HF_HUB_CACHE"])
    assert same.returncode == 0, same.stderr  # the service's own store: it pulls


def test_pull_limit_caps_the_model_only_while_the_pull_runs(
    served: Served, threaded_hub: DevHub
) -> None:
    size_bytes = sum(f.size for f in threaded_hub.manifest(TI2V_REPO).files)
    capped = served.run("pull", TI2V, "--limit", "1MB/s")
    assert capped.returncode == 0, capped.stderr
    assert _took(capped) >= 0.6 * size_bytes / 1e6, capped.stdout

    removed = served.run("rm", TI2V, "--yes")
    assert removed.returncode == 0, removed.stderr
    again = served.run("pull", TI2V)  # no cap now: the pull's cap ended with it
    assert again.returncode == 0, again.stderr
    assert _took(again) < 0.5 * size_bytes / 1e6, again.stdout


def _took(result: subprocess.CompletedProcess[str]) -> float:
    took = re.search(r"fetched in ([\d.]+) s", result.stdout)
    assert took, result.stdout
    return float(took.group(1))


# -- cancel and queue with no service --------------------------------------------------------


def _partial(served: Served) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        progress = served.api("GET", f"/api/v1/models/{TI2V}/download").json()
        if progress["status"] == "downloading" and progress["downloaded_bytes"] > 0:
            return dict(progress)
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)


def _stop(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(20) == 0


def _cli_queue(env: dict[str, str]) -> list[dict[str, object]]:
    listed = _run(env, "queue", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "no modelward service runs" in _said(listed)
    return list(json.loads(listed.stdout))


def _downloaded(env: dict[str, str]) -> int:
    shown = _run(env, "status", TI2V, "--offline", "--json")
    assert shown.returncode == 0, shown.stderr
    return int(json.loads(shown.stdout)[0]["downloaded_bytes"])


def _incomplete(served: Served) -> list[Path]:
    return list(Path(served.env["HF_HUB_CACHE"]).rglob("*.incomplete"))


def test_queue_and_cancel_with_no_service_use_the_services_code(
    served: Served, threaded_hub: DevHub, tmp_path: Path
) -> None:
    threaded_hub.set_faults(SLOW)
    assert served.api("POST", f"/api/v1/models/{TI2V}/download").status_code == 202
    _partial(served)
    assert served.run("pause", TI2V).returncode == 0
    _stop(served)

    # No service: the queue the next service continues, as /queue derives it.
    here = _cli_queue(served.env)
    assert [(e["model_id"], e["position"], e["status"]) for e in here] == [(TI2V, 1, "paused")]
    before = _downloaded(served.env)
    assert here[0]["downloaded_bytes"] == before > 0
    assert _incomplete(served)
    again = _start_serve(served.env, served.home)
    try:
        assert httpx.get(again.url + "/api/v1/queue", timeout=10).json()["data"] == here
    finally:
        _stop(again)

    # No service: cancel deletes the partial data and the queue entry, as the service would.
    cancelled = _run(served.env, "cancel", TI2V)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"{TI2V} was not downloading; freed" in cancelled.stdout
    assert "nothing is downloading" in _said(cancelled)
    assert _cli_queue(served.env) == []
    assert not _incomplete(served)  # what was verified stays, as with the service's cancel
    assert _downloaded(served.env) < before
    after = _start_serve(served.env, served.home)  # nothing comes back to life
    try:
        time.sleep(0.5)
        assert httpx.get(after.url + "/api/v1/queue", timeout=10).json()["data"] == []
    finally:
        _stop(after)
