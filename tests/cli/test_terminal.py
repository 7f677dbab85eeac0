"""Output as a terminal shows it: 80 columns without words cut in two, and shell completion
that installs and completes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelward.devhub import DevHub
from modelward.store import RepoLayout
from tests.cli.conftest import Served
from tests.conftest import TI2V, TI2V_REPO

WIDTH = 80
BORDERS = str.maketrans({c: " " for c in "│┃║┆┊|"})
# What each view shows, with the JSON whose words it must not cut.
VIEWS: list[tuple[list[str], list[str] | None]] = [
    (["status"], ["status", "--json"]),
    (["health"], ["health", "--json"]),
    (["verify", TI2V, "--level", "quick"], ["verify", TI2V, "--level", "quick", "--json"]),
    (["queue"], ["queue", "--json"]),
    (["cleanup"], ["cleanup", "--json"]),
    (["analytics"], ["analytics", "--json"]),
    (["update", "check", TI2V], ["update", "check", TI2V, "--json"]),
    (["quarantine", "list"], None),
    (["request", "list"], None),
    (["suggest", "t2v-a14b"], ["suggest", "t2v-a14b", "--json"]),
    (["service", "status"], None),
]


def _words(value: Any) -> Iterator[str]:
    """Every unbreakable word in a JSON answer (paths, ids, states, capabilities)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _words(item)
    elif isinstance(value, list):
        for item in value:
            yield from _words(item)
    elif isinstance(value, str):
        yield from (w for w in value.split() if 4 <= len(w) <= WIDTH - 10)


def _cut_words(text: str, words: set[str]) -> list[str]:
    """Data words that appear nowhere whole but as a line's end and the next one's start."""
    tokens = text.translate(BORDERS).split()
    cut = []
    for word in sorted(words):
        if any(word in t for t in tokens):
            continue
        for k in range(3, len(word) - 1):
            head, tail = word[:k], word[k:]
            if any(t.endswith(head) for t in tokens) and any(t.startswith(tail) for t in tokens):
                cut.append(word)
                break
    return cut


def _too_wide(text: str) -> list[str]:
    # A path longer than the terminal is printed whole on a line of its own (to be copied).
    return [line for line in text.splitlines() if len(line) > WIDTH and " " in line.strip()]


def _damage_a_file(served: Served, hub: DevHub) -> str:
    manifest = hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    layout = RepoLayout(Path(served.env["HF_HUB_CACHE"]), served.home, TI2V_REPO)
    blob = layout.blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(big.size // 2)
        fh.write(b"\xff" * 4096)
    return big.path


def test_views_fit_80_columns_without_cutting_words(served: Served, threaded_hub: DevHub) -> None:
    assert served.run("pull", TI2V).returncode == 0
    damaged = _damage_a_file(served, threaded_hub)
    narrow = {"COLUMNS": str(WIDTH)}
    problems = []
    for shown, as_json in VIEWS:
        words = {damaged, "text+image-to-video", "image-to-video"}
        if as_json is not None:
            words |= set(_words(json.loads(served.run(*as_json).stdout)))
        result = served.run(*shown, **narrow)
        text = result.stdout + result.stderr
        assert "Traceback" not in text, text
        name = "modelward " + " ".join(shown)
        problems += [f"{name}: {len(line)} columns: {line!r}" for line in _too_wide(text)]
        problems += [f"{name}: cuts {word!r}:\n{text}" for word in _cut_words(text, words)]
    assert not problems, "\n".join(problems)


def test_status_at_80_columns_keeps_capabilities_whole(served: Served) -> None:
    """What a user saw: `status` at 80 columns printed "text-to-vide" and "o"."""
    shown = served.run("status", COLUMNS=str(WIDTH))
    assert shown.returncode == 0, shown.stderr
    tokens = shown.stdout.translate(BORDERS).split()
    assert "text-to-video" in tokens and "text+image-to-video" in tokens
    assert not _too_wide(shown.stdout)


def test_shell_completion_installs_and_completes(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    installed = subprocess.run(
        [sys.executable, "-m", "modelward", "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "modelward.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    assert "complete -o default -F _modelward_completion modelward" in script.read_text()
    # What the installed function asks the program when a user types `modelward sta<TAB>`.
    asked = {"_MODELWARD_COMPLETE": "complete_bash", "COMP_WORDS": "modelward sta"}
    completed = subprocess.run(
        [sys.executable, "-m", "modelward"],
        env={**env, **asked, "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.stdout.split() == ["status"]
