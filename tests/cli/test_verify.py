"""``modelward verify`` as a user runs it: damage a pulled model, find it, pull to mend."""

from __future__ import annotations

import json
import os
from pathlib import Path

from modelward.devhub import DevHub
from modelward.store import RepoLayout
from modelward.units import format_size
from tests.cli.test_commands import _run
from tests.conftest import TI2V, TI2V_REPO


def test_verify_finds_damage_and_a_pull_mends_it(tmp_path: Path, threaded_hub: DevHub) -> None:
    cache = str(tmp_path / "cache")
    nothing = _run(tmp_path, threaded_hub, "verify", "--cache-dir", cache)
    assert nothing.returncode == 0 and "nothing downloaded" in nothing.stdout
    assert _run(tmp_path, threaded_hub, "pull", TI2V, "--cache-dir", cache).returncode == 0
    healthy = _run(tmp_path, threaded_hub, "verify", TI2V, "--full", "--cache-dir", cache)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "healthy" in healthy.stdout

    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(Path(cache), tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size // 2)
        fh.write(b"\xff" * 4096)

    args = ("verify", TI2V, "--level", "quick", "--json", "--cache-dir", cache)
    quick = _run(tmp_path, threaded_hub, *args)
    assert quick.returncode == 1
    [result] = json.loads(quick.stdout)
    assert [(i["path"], i["kind"]) for i in result["issues"]] == [(big.path, "modified")]

    full = _run(tmp_path, threaded_hub, "verify", TI2V, "--full", "--cache-dir", cache)
    assert full.returncode == 1
    assert "checksum-mismatch" in full.stdout and "next step" in full.stdout

    assert _run(tmp_path, threaded_hub, "pull", TI2V, "--cache-dir", cache).returncode == 0
    mended = _run(tmp_path, threaded_hub, "verify", TI2V, "--full", "--cache-dir", cache)
    assert mended.returncode == 0, mended.stdout
    assert os.stat(blob).st_size == big.size


def test_verify_of_an_unknown_model_fails_with_a_next_step(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    result = _run(tmp_path, threaded_hub, "verify", "nope")
    assert result.returncode == 2 and "next step" in result.stderr  # bad input


def test_repair_then_quarantine_list_and_purge(tmp_path: Path, threaded_hub: DevHub) -> None:
    cache = str(tmp_path / "cache")
    assert _run(tmp_path, threaded_hub, "pull", TI2V, "--cache-dir", cache).returncode == 0
    healthy = _run(tmp_path, threaded_hub, "repair", TI2V, "--cache-dir", cache)
    assert healthy.returncode == 0 and "nothing to repair" in healthy.stdout

    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(Path(cache), tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\0" * 10)
    repaired = _run(tmp_path, threaded_hub, "repair", TI2V, "--cache-dir", cache)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "quarantine" in repaired.stdout and big.path in repaired.stdout

    listed = _run(tmp_path, threaded_hub, "quarantine", "list", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["path"] == big.path and entry["reason"].startswith("bad-header")
    purged = _run(tmp_path, threaded_hub, "quarantine", "purge", "--yes", "--cache-dir", cache)
    assert purged.returncode == 0 and f"freed {format_size(big.size)}" in purged.stdout
    assert json.loads(_run(tmp_path, threaded_hub, "quarantine", "list", "--json").stdout) == []


def test_health_reports_conditions_with_the_next_step(tmp_path: Path, threaded_hub: DevHub) -> None:
    cache = str(tmp_path / "cache")
    assert _run(tmp_path, threaded_hub, "pull", TI2V, "--cache-dir", cache).returncode == 0
    full = _run(tmp_path, threaded_hub, "verify", TI2V, "--full", "--cache-dir", cache)
    assert full.returncode == 0, full.stderr
    assert "sha256" not in full.stdout + full.stderr  # no progress bar off a terminal

    healthy = _run(tmp_path, threaded_hub, "health", "--cache-dir", cache)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "overall health 100%" in healthy.stdout and "(full)" in healthy.stdout

    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    blob = RepoLayout(Path(cache), tmp_path / "home", TI2V_REPO).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size // 2)
        fh.write(b"\xff" * 4096)
    assert _run(tmp_path, threaded_hub, "verify", TI2V, "--full", "--cache-dir", cache).returncode
    damaged = _run(tmp_path, threaded_hub, "health", "--json", "--cache-dir", cache)
    assert damaged.returncode == 1
    report = json.loads(damaged.stdout)
    assert report["models_corrupted"] == 1
    [ti2v] = [m for m in report["models"] if m["model_id"] == TI2V]
    assert ti2v["condition"] == "corrupted" and ti2v["issues"][0]["kind"] == "checksum-mismatch"
    first = report["recommendations"][0]
    assert (first["action"], first["model_id"]) == ("repair", TI2V)
    text = _run(tmp_path, threaded_hub, "health", "--cache-dir", cache)
    assert f"modelward repair {TI2V}" in text.stdout and "critical" in text.stdout


def test_suggest_names_the_alternative_and_what_to_do_now(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    cache = str(tmp_path / "cache")
    out = _run(tmp_path, threaded_hub, "suggest", "t2v-a14b", "--cache-dir", cache)
    assert out.returncode == 0, out.stderr
    assert "alternative: ti2v-5b" in out.stdout and "slightly lower quality" in out.stdout
    assert "fetch a model, then run" in out.stdout  # words: no codes on the screen
    assert "command: modelward pull t2v-a14b" in out.stdout
    assert "download_and_retry" not in out.stdout and "slightly_lower" not in out.stdout
    data = json.loads(
        _run(tmp_path, threaded_hub, "suggest", "t2v-a14b", "--vram", "32", "--json").stdout
    )
    best = data["alternatives"][0]  # the service's advice, as /models/{id}/advice answers
    assert best["suggested_model"] == "ti2v-5b" and data["strategy"]["strategy_type"]
    assert any("CPU offload" in n for n in best["needs"])
    bad = _run(tmp_path, threaded_hub, "suggest", "t2v-a14b", "--quality", "ultra")
    assert bad.returncode == 2 and "--quality must be one of" in bad.stderr

    # Here and fitting, the requested model is the answer; the alternative is only an option.
    for model_id in ("t2v-a14b", "ti2v-5b"):
        assert _run(tmp_path, threaded_hub, "pull", model_id, "--cache-dir", cache).returncode == 0
    here = _run(tmp_path, threaded_hub, "suggest", "t2v-a14b", "--vram", "80", "--cache-dir", cache)
    assert here.returncode == 0, here.stderr
    assert "now: use t2v-a14b: it is available and fits" in here.stdout
    assert "other option: ti2v-5b" in here.stdout and "run the job on" not in here.stdout
