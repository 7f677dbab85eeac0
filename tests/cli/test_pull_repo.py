"""``modelward pull ORG/NAME`` and HF_HUB_OFFLINE, as a user runs them: subprocesses
against the local hub, each with its own store and home."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.devhub.shapes import TI2V_5B
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants

# A repo no catalog entry names, served by the local hub under its own name.
ACME_REPO = "acme/Tiny-Video-Diffusers"
ACME_ID = "tiny-video-diffusers"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens there
SPEED = re.compile(r"\d[\d.,]*\s*[kKMGT]?i?B/s")


@pytest.fixture
def hub(hub_root: Path) -> Iterator[DevHub]:
    repos = [TI2V_5B, dataclasses.replace(TI2V_5B, repo_id=ACME_REPO)]
    with DevHub(root=hub_root, scale="tiny", repos=repos).running_in_thread() as server:
        yield server


class Shell:
    """A user's shell: the local hub's endpoint, a store and a home; runs modelward."""

    def __init__(self, tmp_path: Path, hub: DevHub) -> None:
        self.hub = hub
        self.cache = tmp_path / "cache"
        self.home = tmp_path / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
        self.env = env | {
            "HF_ENDPOINT": hub.url,
            "HF_HUB_CACHE": str(self.cache),
            "MODELWARD_HOME": str(self.home),
            "COLUMNS": "200",
        }

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelward", *args],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **env)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def statuses(self) -> dict[str, dict[str, object]]:
        listed = json.loads(self.ok("status", "--json").stdout)
        return {s["model_id"]: s for s in listed}

    def stop_service(self) -> None:
        # A pull may have started a background service for this home; it must not outlive
        # the test, nor serve a later command run with another HF_HUB_OFFLINE.
        self.run("service", "stop")


@pytest.fixture
def shell(tmp_path: Path, hub: DevHub) -> Iterator[Shell]:
    user = Shell(tmp_path, hub)
    try:
        yield user
    finally:
        user.stop_service()


def test_a_repo_without_a_catalog_entry_pulls_and_every_command_takes_its_id(
    shell: Shell,
) -> None:
    pulled = shell.run("pull", ACME_REPO)
    assert pulled.returncode == 0, pulled.stderr
    assert f"remembered as '{ACME_ID}'" in pulled.stderr
    assert "unknown model id" not in pulled.stderr

    entry = shell.statuses()[ACME_ID]
    assert entry["availability_status"] == "available"
    assert entry["repo_id"] == ACME_REPO
    assert ACME_ID in shell.ok("status").stdout
    for command in (("verify", ACME_ID), ("pin", ACME_ID), ("unpin", ACME_ID)):
        shell.ok(*command)
    again = shell.ok("pull", ACME_REPO)  # the same entry, not a second one
    assert f"model '{ACME_ID}'" in again.stderr
    shell.ok("rm", ACME_ID, "--yes")
    assert shell.statuses()[ACME_ID]["availability_status"] == "missing"
    assert_store_invariants(shell.cache)


def test_a_repo_the_catalog_names_is_that_entry(shell: Shell) -> None:
    pulled = shell.ok("pull", TI2V_REPO)
    assert f"model '{TI2V}'" in pulled.stderr
    assert shell.statuses()[TI2V]["availability_status"] == "available"
    assert not (shell.home / "catalog" / "remembered.toml").exists()


def test_include_selects_files_as_hf_download_does(shell: Shell) -> None:
    pulled = shell.ok("pull", TI2V_REPO, "--include", "*.json")
    assert "remembered as 'wan2.2-ti2v-5b-diffusers'" in pulled.stderr
    snapshot = next(shell.cache.glob("models--*/snapshots/*"))
    names = [p.name for p in snapshot.rglob("*") if not p.is_dir()]
    assert names and all(name.endswith(".json") for name in names)
    statuses = shell.statuses()
    assert statuses["wan2.2-ti2v-5b-diffusers"]["availability_status"] == "available"
    assert statuses[TI2V]["availability_status"] != "available"


@pytest.mark.parametrize(
    "args",
    [
        ("../x",),
        ("a/b/c",),
        ("org/name@../../refs",),
        ("org/name", "--include", "/abs/*"),
        (TI2V, "--include", "*.json"),
    ],
)
def test_hostile_or_meaningless_arguments_are_refused_with_exit_2(
    shell: Shell, args: tuple[str, ...]
) -> None:
    result = shell.run("pull", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "next step" in result.stderr and "Traceback" not in result.stderr
    assert not (shell.home / "catalog" / "remembered.toml").exists()


def test_offline_a_complete_model_pulls_without_a_request(shell: Shell) -> None:
    shell.ok("pull", TI2V)
    shell.stop_service()
    shell.hub.clear_log()
    for endpoint in (shell.hub.url, DEAD_ENDPOINT):
        result = shell.run("pull", TI2V, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert "not checked for updates" in result.stdout
        shell.stop_service()
    assert shell.hub.request_log == []


def test_offline_an_incomplete_model_fails_saying_what_to_do(shell: Shell) -> None:
    shell.ok("pull", TI2V)
    shell.stop_service()
    shard = next(shell.cache.glob("models--*/snapshots/*/transformer/*.safetensors"))
    shard.resolve().unlink()
    shell.hub.clear_log()
    result = shell.run("pull", TI2V, HF_HUB_OFFLINE="1")
    assert result.returncode == 1
    assert "offline" in result.stderr and "incomplete" in result.stderr
    assert "HF_HUB_OFFLINE" in result.stderr and "next step" in result.stderr
    assert shell.hub.request_log == []


def test_offline_is_refused_by_a_service_that_runs_online(shell: Shell) -> None:
    shell.ok("pull", TI2V)  # leaves the background service running, online
    shell.hub.clear_log()
    result = shell.run("pull", TI2V, HF_HUB_OFFLINE="1")
    assert result.returncode == 2
    assert "runs online" in result.stderr and "service stop" in result.stderr
    assert shell.hub.request_log == []


def test_a_pull_that_fetched_nothing_reports_no_speed(shell: Shell) -> None:
    first = shell.ok("pull", TI2V)
    assert "fetched" in first.stdout
    again = shell.ok("pull", TI2V)
    assert not SPEED.search(again.stdout + again.stderr), again.stdout
    assert "nothing fetched" in again.stdout
