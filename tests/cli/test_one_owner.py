"""One owner of downloads: the service runs them, every CLI command is its client, and the
CLI and the API show the same state and bytes for a model at the same moment.

Everything here is real: ``modelward`` subprocesses, a service (started by hand with
``serve``, or by a CLI command on demand), and the local hub with a per-connection rate
cap so a download lasts long enough to be watched and steered.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelward.api.schemas import ModelStatusPublic
from modelward.cli.client import ServiceClient
from modelward.cli.demo import _registration, default_home
from modelward.cli.discovery import find_service, service_file, write_service_info
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import ModelwardError, ServiceError
from tests.cli.conftest import Served, _env, _run, _start_serve
from tests.conftest import TI2V

SLOW = FaultPlan([Fault.rate(30_000)])
SEGMENT_BYTES = 128 * 1024


class Api:
    """The API of whichever service is registered in a home, as a script would use it."""

    def __init__(self, home: Path) -> None:
        info = json.loads((home / "service.json").read_text())
        self.url = info["url"]
        token = (home / "api-token").read_text().strip()
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str) -> Any:
        response = httpx.request(method, self.url + path, headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def download(self, model: str = TI2V) -> dict[str, Any]:
        answer: dict[str, Any] = self("GET", f"/api/v1/models/{model}/download")
        return answer

    def status(self, model: str = TI2V) -> dict[str, Any]:
        found = [s for s in self("GET", "/api/v1/models/status")["data"] if s["model_id"] == model]
        return found[0]  # type: ignore[no-any-return]


def _wait(check: Callable[[], Any], what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _partial(api: Api) -> dict[str, Any] | None:
    progress = api.download()
    files = progress["files"].values()
    moving = any(0 < f["done_bytes"] < f["total_bytes"] for f in files)
    return progress if progress["status"] == "downloading" and moving else None


def _cli_status(env: dict[str, str], model: str = TI2V) -> dict[str, Any]:
    shown = _run(env, "status", model, "--json")
    assert shown.returncode == 0, shown.stderr
    answer: dict[str, Any] = json.loads(shown.stdout)[0]
    return answer


def _assert_cli_and_api_agree(env: dict[str, str], api: Api) -> None:
    """The CLI's figures lie between two readings of the API taken around it, with the same
    state: they are the service's figures at one moment, not a second derivation."""
    before = api.download()
    cli = _cli_status(env)
    status = api.status()
    after = api.download()
    assert cli["availability_status"] == status["availability_status"] == "downloading"
    assert before["status"] == after["status"] == "downloading"
    assert before["downloaded_bytes"] <= cli["downloaded_bytes"] <= after["downloaded_bytes"]
    assert before["downloaded_bytes"] <= status["downloaded_bytes"] <= after["downloaded_bytes"]
    assert cli["size_bytes"] == status["size_bytes"] == after["total_bytes"]


def _pull(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", "pull", TI2V, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def env(tmp_path: Path, threaded_hub: DevHub) -> dict[str, str]:
    """A user's shell for these tests: its own home, cache and default data folder; small
    segments, so a lifted rate cap shows within a segment (a service started on demand
    inherits the environment)."""
    return _env(tmp_path, threaded_hub.url) | {
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "MODELWARD_SEGMENT_BYTES": str(SEGMENT_BYTES),
    }


def test_explicit_service_cli_and_api_agree_and_pause_from_the_cli(
    served: Served, threaded_hub: DevHub
) -> None:
    threaded_hub.set_faults(SLOW)
    api = Api(served.home)
    api("POST", f"/api/v1/models/{TI2V}/download")
    _wait(lambda: _partial(api), "partial data")
    _assert_cli_and_api_agree(served.env, api)

    paused = served.run("pause", TI2V)
    assert paused.returncode == 0 and f"paused {TI2V}" in paused.stdout, paused.stderr
    cli = _cli_status(served.env)
    progress = api.download()
    assert cli["availability_status"] == "paused" and progress["status"] == "paused"
    assert cli["downloaded_bytes"] == progress["downloaded_bytes"] > 0
    assert cli["download_progress"] == pytest.approx(progress["progress_percent"])


def test_on_demand_pull_is_paused_limited_and_resumed_from_other_shells(
    env: dict[str, str], tmp_path: Path, threaded_hub: DevHub
) -> None:
    home = tmp_path / "home"
    threaded_hub.set_faults(SLOW)
    # Few connections: the download must outlast the commands below on a loaded machine.
    puller = _pull(env, "--connections", "4")
    try:
        _wait(lambda: (home / "service.json").exists(), "a service started on demand")
        api = Api(home)
        _wait(lambda: _partial(api), "partial data")
        _assert_cli_and_api_agree(env, api)

        capped = _run(env, "limit", "20MB/s")
        assert capped.returncode == 0, capped.stderr
        assert api("GET", "/api/v1/bandwidth")["limit_bytes_per_s"] == 20_000_000

        paused = _run(env, "pause", TI2V)
        assert paused.returncode == 0 and f"paused {TI2V}" in paused.stdout, paused.stderr
        _, pull_err = puller.communicate(timeout=30)
    finally:
        if puller.poll() is None:
            puller.kill()
    # The pull stops following a download another shell paused, and says how to go on.
    assert puller.returncode == 1
    assert "paused in the service" in pull_err and f"modelward resume {TI2V}" in pull_err
    assert "started a background service at" in pull_err and "service.log" in pull_err
    # What a user saw: a pull that started the download said it joined one already running.
    assert "already" not in pull_err and "following it" not in pull_err
    cli = _cli_status(env)
    progress = api.download()
    assert cli["availability_status"] == "paused" == progress["status"]
    assert cli["downloaded_bytes"] == progress["downloaded_bytes"] > 0

    resumed = _run(env, "resume", TI2V)
    assert resumed.returncode == 0 and f"resumed {TI2V}" in resumed.stdout, resumed.stderr
    assert api.download()["status"] in ("queued", "downloading")

    shown = _run(env, "service", "status")
    assert shown.returncode == 0 and "started on demand" in shown.stdout, shown.stderr
    pid = find_service(home).pid
    stopped = _run(env, "service", "stop")
    assert stopped.returncode == 0 and "stopped the service" in stopped.stdout, stopped.stderr
    assert not service_file(home).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_pull_follows_a_download_the_service_already_runs(
    env: dict[str, str], tmp_path: Path, threaded_hub: DevHub
) -> None:
    served = _start_serve(env, tmp_path / "home")  # stopped by the autouse fixture
    threaded_hub.set_faults(SLOW)
    api = Api(served.home)
    api("POST", f"/api/v1/models/{TI2V}/download")
    started = _wait(lambda: _partial(api), "partial data")
    puller = _pull(env)
    try:
        time.sleep(0.5)  # the pull is following by now; then let the download finish
        threaded_hub.clear_faults()
        out, err = puller.communicate(timeout=60)
    finally:
        if puller.poll() is None:
            puller.kill()
    assert puller.returncode == 0, err
    assert f"{TI2V} is already downloading in the service at {api.url}; following it" in err
    line = next(line for line in out.splitlines() if TI2V in line)
    # The service's own figures: the job fetched the whole model (none of it was on disk),
    # including what it fetched before this pull joined.
    fetched = re.search(r"\(([\d.]+) (MB|kB) fetched in ([\d.]+) s, [\d.]+ (MB|kB)/s\)", line)
    assert fetched, line
    total_mb = started["total_bytes"] / 1e6
    assert float(fetched.group(1)) * (1 if fetched.group(2) == "MB" else 1e-3) == pytest.approx(
        total_mb, rel=0.01
    )
    assert api.status()["availability_status"] == "available"


def test_ctrl_c_detaches_and_the_download_goes_on(
    env: dict[str, str], tmp_path: Path, threaded_hub: DevHub
) -> None:
    home = tmp_path / "home"
    threaded_hub.set_faults(SLOW)
    puller = _pull(env)
    try:
        _wait(lambda: (home / "service.json").exists(), "a service started on demand")
        api = Api(home)
        before = _wait(lambda: _partial(api), "partial data")
        puller.send_signal(signal.SIGINT)
        _, err = puller.communicate(timeout=30)
    finally:
        if puller.poll() is None:
            puller.kill()
    assert puller.returncode == 130, err
    assert f"detached: {TI2V} goes on downloading in the service at {api.url}" in err
    assert f"'modelward pause {TI2V}' pauses it" in err
    _wait(
        lambda: api.download()["downloaded_bytes"] > before["downloaded_bytes"],
        "the download to go on after the pull detached",
    )
    assert api.download()["status"] == "downloading"


def test_a_service_started_on_demand_stops_once_idle(env: dict[str, str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    pulled = _run(env | {"MODELWARD_ON_DEMAND_IDLE": "3"}, "pull", TI2V)
    assert pulled.returncode == 0, pulled.stderr
    assert f"{TI2V}:" in pulled.stdout and "verified" in pulled.stdout
    pid = json.loads(service_file(home).read_text())["pid"]  # it idles 3 s before it stops
    _wait(lambda: not service_file(home).exists(), "the idle service to stop", 20)
    _wait(lambda: not _alive(pid), "the idle service's process to end", 20)
    # Again with no service: status reads the same store here, and nothing downloads.
    assert _cli_status(env)["availability_status"] == "available"
    assert not service_file(home).exists()


def test_controls_with_no_service_say_nothing_is_downloading(env: dict[str, str]) -> None:
    paused = _run(env, "pause", TI2V)
    assert paused.returncode == 0
    assert "nothing is downloading: no modelward service runs" in " ".join(paused.stderr.split())
    resumed = _run(env, "resume", TI2V)
    assert resumed.returncode == 1 and "service-not-running" in resumed.stderr
    assert f"modelward pull {TI2V}" in " ".join(resumed.stderr.split())
    kept = _run(env, "limit", "20MB/s")
    assert kept.returncode == 0 and "bandwidth limit: 20.0 MB/s" in kept.stdout
    assert "for the next service" in " ".join(kept.stderr.split())
    assert "bandwidth limit: 20.0 MB/s" in _run(env, "limit").stdout


def test_status_with_no_variables_finds_the_demo_registered_in_the_default_home(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    """The demo keeps its own home and registers its service in the default one; a shell
    with no MODELWARD_HOME, HF_ENDPOINT or HF_HUB_CACHE then sees the demo's models."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    plain |= {"XDG_DATA_HOME": str(tmp_path / "xdg"), "COLUMNS": "200"}
    args = ["demo", "--port", "0", "--scale", "tiny", "--hub-rate", "0"]
    demo = subprocess.Popen(
        [sys.executable, "-m", "modelward", *args, "--root", str(tmp_path / "demo")],
        env=plain,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    registered = tmp_path / "xdg" / "modelward" / "service.json"
    try:
        assert demo.stdout is not None
        seen = _read_until(demo, "Ctrl-C stops the demo")
        assert re.search(r"In another shell: \S*modelward status", seen), seen
        entry = json.loads(registered.read_text())
        assert entry["pid"] == demo.pid and entry["home"] == str(tmp_path / "demo" / "home")
        shown = _run(plain, "status", "--json")
        assert shown.returncode == 0, shown.stderr
        states = {s["model_id"]: s["availability_status"] for s in json.loads(shown.stdout)}
        # The demo pulls all but one model, left for the person's own pull.
        assert states.pop(TI2V) == "missing" and set(states.values()) == {"available"}, states
        # A mutation needs the token: the CLI reads it from the demo's own home.
        paused = _run(plain, "pause", TI2V)
        assert paused.returncode == 0, paused.stderr
        assert f"{TI2V} is not downloading" in paused.stderr
        # A token made in this shell is one the demo's service takes (kept in its home).
        made = _run(plain, "token", "create", "ci", "--scope", "operate")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        assert (tmp_path / "demo" / "home" / "tokens.json").is_file()
        asked = httpx.post(
            f"{entry['url']}/api/v1/models/{TI2V}/pause",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert asked.status_code == 200, asked.text
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(30)
    assert not registered.exists()


def test_the_demo_leaves_a_default_home_a_live_service_owns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELWARD_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    owned = default_home()
    write_service_info(owned, "http://127.0.0.1:9")  # this process: alive
    homes, line = _registration(owned, tmp_path / "demo" / "home")
    assert homes == ()
    assert f"export MODELWARD_HOME={tmp_path / 'demo' / 'home'}" in line


def _read_until(proc: subprocess.Popen[str], text: str, timeout_s: float = 120) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError("".join(seen))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_typed_client_parses_answers_and_raises_one_error_class(served: Served) -> None:
    with ServiceClient(served.url, served.token) as client:
        statuses = client.statuses()
        assert all(isinstance(s, ModelStatusPublic) for s in statuses)
        assert TI2V in {s.model_id for s in statuses}
        assert client.model_status(TI2V).availability_status == "missing"
        with pytest.raises(ServiceError) as unknown:
            client.pause("nope")
    assert unknown.value.code == "model-unknown" and unknown.value.status_code == 404
    assert TI2V in unknown.value.hint  # the service's own hint: the known ids
    refused = ServiceClient(served.url, "wrong", token_hint="use the right token")
    with refused, pytest.raises(ServiceError) as denied:
        refused.cancel(TI2V)
    assert denied.value.code == "unauthorized" and denied.value.status_code == 401
    assert denied.value.hint == "use the right token"
    assert isinstance(denied.value, ModelwardError)
