"""``--json`` prints only JSON on stdout, for every command that has it; progress goes to
stderr, and only when stderr is a terminal.

The commands are enumerated from the typer app, so a new one with ``--json`` is run here
too (with no arguments unless ``JSON_ARGS`` gives some).
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from modelward.cli import app, output
from tests.cli.conftest import Served
from tests.conftest import TI2V
from tests.s3 import S3Server

# Arguments a command needs besides --json; each runs for real against the fixture below.
JSON_ARGS: dict[str, list[str]] = {
    "verify": [TI2V, "--level", "full"],
    "repair": [TI2V],
    "suggest": ["t2v-a14b"],
    "request run": [TI2V, "--prompt", "a lighthouse at dusk"],
    "update check": [TI2V],
    # Each waits for the service's own node, so no fleet work runs into the next command.
    "fleet pull": [TI2V, "--wait"],
    "fleet update": [TI2V, "--wait"],
    "fleet verify": [TI2V, "--wait"],
    "fleet remove": ["t2v-a14b", "--wait"],  # not here: TI2V stays for the commands after
    # The team mirror: a fresh bucket of the test's S3 server ("{mirror}" is replaced by it).
    "mirror push": [TI2V, "--to", "{mirror}"],
    "mirror list": ["--mirror", "{mirror}"],
    "mirror verify": ["--mirror", "{mirror}"],
    "mirror prune": ["--mirror", "{mirror}"],
}


def _json_commands(group: TyperGroup, prefix: str = "") -> Iterator[str]:
    ctx = typer.Context(group)  # list_commands: the root imports a command's module lazily
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, TyperGroup):
            yield from _json_commands(command, path + " ")
        elif any("--json" in getattr(p, "opts", ()) for p in command.params):
            yield path


def _all_json_commands() -> list[str]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return sorted(_json_commands(root))


def test_the_commands_with_json_are_found() -> None:
    found = _all_json_commands()
    assert {"status", "verify", "health", "queue", "cleanup", "analytics"} <= set(found)
    assert not [c for c in JSON_ARGS if c not in found], "JSON_ARGS names a command without it"


def test_every_json_command_prints_only_json(
    served: Served, s3_server: S3Server, s3_bucket: str
) -> None:
    pulled = served.run("pull", TI2V)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    problems = []
    for command in _all_json_commands():
        extra = [a.replace("{mirror}", f"s3://{s3_bucket}/hf") for a in JSON_ARGS.get(command, [])]
        args = [*command.split(), *extra, "--json"]
        result = served.run(*args, **s3_server.env())
        shown = "modelward " + " ".join(args)
        try:
            json.loads(result.stdout)
        except ValueError as exc:
            problems.append(f"{shown}: stdout is not JSON ({exc}):\n{result.stdout[:2000]}")
            continue
        if result.returncode != 0:
            problems.append(f"{shown}: exit {result.returncode}\n{result.stderr}")
    assert not problems, "\n\n".join(problems)


def test_full_verify_keeps_stdout_json_while_stderr_is_a_terminal(served: Served) -> None:
    """What a user saw: `verify --level full --json | python -m json.tool` failed, as the
    progress bar was on stdout. Here stdout is a pipe and stderr a terminal."""
    assert served.run("pull", TI2V).returncode == 0
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "modelward", "verify", TI2V, "--level", "full", "--json"],
            env=served.env,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
        )
    finally:
        os.close(follower)
        drawn = _drain(leader)
    assert proc.returncode == 0
    assert b"sha256" in drawn  # the bar, on the terminal
    [result] = json.loads(proc.stdout)
    assert result["model_id"] == TI2V and result["level"] == "full"
    assert b"\x1b[" not in proc.stdout  # no terminal control codes either


def _drain(fd: int) -> bytes:
    seen = b""
    try:
        while chunk := os.read(fd, 65536):
            seen += chunk
    except OSError:  # the terminal's other end is closed: all is read
        pass
    os.close(fd)
    return seen


def test_progress_draws_on_a_terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        # Set here, not in a fixture: pytest puts its capture back before each test body.
        monkeypatch.setattr(sys, "stderr", terminal)
        with output.progress_bar("{task.description}") as bars:
            assert not bars.disable and bars.console.file is terminal
            task = bars.add_task("hashing", total=10)
            bars.advance(task, 10)
        monkeypatch.undo()
    assert b"hashing" in _drain(leader)


def test_progress_is_silent_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured_out, captured_err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured_out)
    monkeypatch.setattr(sys, "stderr", captured_err)
    with output.progress_bar("{task.description}") as bars:
        task = bars.add_task("hashing", total=10)
        bars.advance(task, 10)
    with output.spinner("checking"):
        pass
    assert bars.disable
    assert captured_out.getvalue() == "" and captured_err.getvalue() == ""


def test_every_progress_display_goes_through_the_one_rule() -> None:
    """Bars and spinners are made only by ``cli/output.py`` (stderr, terminal only)."""
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(Path(output.__file__).parent.glob("*.py"))
        if path.name != "output.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bProgress\(|\.status\(f?[\"']|\bStatus\(", line)
    ]
    assert not offenders, "use output.progress_bar / status_line:\n" + "\n".join(offenders)
