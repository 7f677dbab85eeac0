"""The CLI as a user runs it: a subprocess against the local hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelward.devhub import DevHub
from tests.conftest import TI2V


def _run(tmp_path: Path, hub: DevHub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(HF_ENDPOINT=hub.url, MODELWARD_HOME=str(tmp_path / "home"), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "modelward", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pull_then_status_json(tmp_path: Path, threaded_hub: DevHub) -> None:
    cache = str(tmp_path / "cache")
    before = _run(tmp_path, threaded_hub, "status", "--json", "--cache-dir", cache)
    assert before.returncode == 0, before.stderr
    states = {s["model_id"]: s for s in json.loads(before.stdout)}
    assert states[TI2V]["availability_status"] == "missing"
    assert states[TI2V]["missing_files"]

    pulled = _run(tmp_path, threaded_hub, "pull", TI2V, "--cache-dir", cache)
    assert pulled.returncode == 0, pulled.stderr
    assert "verified" in pulled.stdout

    after = json.loads(
        _run(tmp_path, threaded_hub, "status", "--json", "--cache-dir", cache).stdout
    )
    ti2v = next(s for s in after if s["model_id"] == TI2V)
    assert ti2v["availability_status"] == "available" and ti2v["missing_files"] == []
    assert Path(ti2v["local_path"]).is_dir()
    table = _run(tmp_path, threaded_hub, "status", "--cache-dir", cache)
    assert "available" in table.stdout and TI2V in table.stdout


def test_pull_of_unknown_model_fails_with_a_next_step(tmp_path: Path, threaded_hub: DevHub) -> None:
    result = _run(tmp_path, threaded_hub, "pull", "nope")
    assert result.returncode == 2  # bad input
    assert "model-unknown" in result.stderr and "next step" in result.stderr


def test_bad_catalog_is_refused_naming_file_entry_and_field(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[models.mine]\nrepo = "org/name"\nrevision = "main"\nvram_min_gb = "lots"\n')
    result = _run(tmp_path, threaded_hub, "status", "--catalog", str(bad))
    assert result.returncode == 2  # bad input
    assert str(bad) in result.stderr.replace("\n", "")
    assert "'mine'" in result.stderr and "vram_min_gb" in result.stderr


def test_catalog_file_adds_a_model_every_command_accepts_it(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[models.small]\nrepo = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"\n'
        'revision = "main"\ninclude = ["*.json"]\n'
    )
    pulled = _run(
        tmp_path,
        threaded_hub,
        "pull",
        "small",
        "--catalog",
        str(extra),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert pulled.returncode == 0, pulled.stderr
    status = _run(
        tmp_path,
        threaded_hub,
        "status",
        "small",
        "--json",
        "--catalog",
        str(extra),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert json.loads(status.stdout)[0]["availability_status"] == "available"


def test_unreachable_hub_says_what_to_do(tmp_path: Path, threaded_hub: DevHub) -> None:
    env_hub = type("H", (), {"url": "http://127.0.0.1:9"})()
    result = _run(tmp_path, env_hub, "pull", TI2V, "--max-retries", "0")  # type: ignore[arg-type]
    assert result.returncode == 1
    assert "source-unavailable" in result.stderr and "next step" in result.stderr
