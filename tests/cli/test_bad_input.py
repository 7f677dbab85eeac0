"""Every command, given bad values, ends with exit code 2 and one short paragraph that says
what was wrong and what to do next; never with a traceback.

The commands are enumerated from the typer app: a new command without bad cases here fails
``test_every_command_has_bad_cases``, so none can be forgotten. They run in this process
(typer's runner, as ``modelward`` runs them, against a real service and hub) because a
subprocess per case would take minutes; ``test_signals.py`` and the last test here run the
real program.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from modelward.cli import app
from modelward.devhub import DevHub
from tests.cli.conftest import Served, _env, _start_serve
from tests.conftest import TI2V

NOWHERE = "/nonexistent/modelward-test"
PORT_TAKEN = "{port-taken}"  # replaced by a port a socket of this test holds
FOLDER = "{folder}"  # replaced by a folder that exists

# Command path -> invocations with one bad value each. Kinds: an unknown model, a size or a
# rate without a unit or as garbage, a bad enum value, a nonexistent path, a bad id, a
# value out of range, a taken port, and text that looks like rich markup.
BAD_CASES: dict[str, list[list[str]]] = {
    "pull": [["nope"], [TI2V, "--limit", "20"], ["not a/repo!!"], [TI2V, "--connections", "0"]],
    "status": [["nope"], ["[/]"], ["--catalog", NOWHERE]],
    "serve": [["--port", "abc"], ["--port", PORT_TAKEN]],
    "demo": [["--scale", "abc"], ["--port", "abc"]],
    "pause": [["nope"]],
    "resume": [["nope"]],
    "cancel": [["nope"]],
    "priority": [[TI2V, "urgent"], ["nope", "high"]],
    "limit": [["20"], ["abc"], ["20MB/s", "--model", "nope"]],
    "queue": [["--catalog", NOWHERE]],
    "verify": [["nope"], ["--level", "bogus"]],
    "repair": [["nope"]],
    "health": [["--catalog", NOWHERE]],
    "suggest": [
        ["nope"],
        [TI2V, "--quality", "best"],
        [TI2V, "--vram", "abc"],
        [TI2V, "--inputs", "audio"],
        [TI2V, "--resolution", "big"],
    ],
    "quarantine list": [["--catalog", NOWHERE]],
    "quarantine purge": [["no-such-entry", "--yes"]],
    "request run": [
        ["nope", "--prompt", "x"],
        [TI2V, "--prompt", "x", "--quality", "best"],
        [TI2V],  # neither a prompt nor an image
        ["i2v-a14b", "--prompt", "x"],  # i2v needs an image: the service refuses (422)
        ["i2v-a14b", "--prompt", "x", "--image", NOWHERE],  # refused before sending
    ],
    "request list": [["--catalog", NOWHERE]],
    "request show": [["no-such-request"]],
    "request cancel": [["no-such-request"]],
    "update check": [["nope"]],
    "update apply": [["nope"]],
    "update rollback": [["nope"]],
    "update prune": [["nope"]],
    "update policy": [[TI2V, "sometimes"], ["nope", "ask"]],
    "adopt": [[NOWHERE, TI2V], [FOLDER, "nope"]],
    "analytics": [["--days", "0"], ["--days", "abc"]],
    "pin": [["nope"]],
    "unpin": [["nope"]],
    "rm": [["nope", "--yes"]],
    "cleanup": [["--target-free", "abc"], ["--target-free", "20"]],
    "token create": [["bad name!"], ["ci", "--scope", "root"], ["service"]],
    "token list": [["--bogus"]],
    "token revoke": [["no-such-token"], ["service"]],
    "audit": [["--since", "soon"], ["--limit", "0"], ["--limit", "abc"]],
    "fleet pull": [["nope"], [TI2V, "--nodes", "no-such-node"], [TI2V, "--nodes", "bad name!"]],
    "fleet update": [["nope"]],
    "fleet verify": [["nope"], [TI2V, "--nodes", "no-such-node"]],
    "fleet remove": [["nope"]],
    "fleet actions": [["--limit", "0"], ["--limit", "abc"]],
    "mirror push": [["nope", "--to", "s3://b/p"], [TI2V], [TI2V, "--to", "https://x/y"]],
    "mirror list": [[], ["--mirror", "http://x"]],
    "mirror verify": [["--mirror", "ftp://x/y"]],
    "mirror prune": [["--grace", "soon", "--mirror", "s3://b/p"], ["--mirror", "s3://"]],
    "service status": [["--bogus"]],  # takes no values: an unknown option
    "service stop": [["--bogus"]],  # (and must not stop the service)
    "hub serve": [
        ["--scale", "abc"],
        ["--faults", NOWHERE],
        ["--gated", "no-token"],
        ["--port", PORT_TAKEN],
    ],
}


def _leaves(group: TyperGroup, prefix: str = "") -> Iterator[str]:
    ctx = typer.Context(group)  # list_commands: the root imports a command's module lazily
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, TyperGroup):
            yield from _leaves(command, path + " ")
        else:
            yield path


def _commands() -> list[str]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return sorted(_leaves(root))


def test_every_command_has_bad_cases() -> None:
    missing = [c for c in _commands() if c not in BAD_CASES]
    assert not missing, f"add bad values for {missing} to BAD_CASES"
    assert not [c for c in BAD_CASES if c not in _commands()], "BAD_CASES names a gone command"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, hub_root: Path) -> Iterator[Served]:
    """One real service (and hub) for every case: most commands are its clients."""
    root = tmp_path_factory.mktemp("bad-input")
    with DevHub(root=hub_root, scale="tiny").running_in_thread() as hub:
        served = _start_serve(_env(root, hub.url), root / "home")
        try:
            yield served
        finally:
            served.proc.send_signal(signal.SIGINT)
            served.proc.wait(20)


@pytest.fixture(scope="module")
def port_taken() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _explained(code: int, stdout: str, stderr: str, shown: str) -> str | None:
    """What is wrong with how a bad invocation ended, or None when it ended right."""
    said = stderr.strip()
    if code != 2:
        return f"{shown}: exit {code}, not 2\n{stdout}{stderr}"
    if "Traceback" in stdout + stderr:
        return f"{shown}: a traceback\n{stderr}"
    if not said or "\n\n" in said:
        return f"{shown}: not one paragraph on stderr\n{stderr!r}"
    if "next step" not in said and "--help" not in said:
        return f"{shown}: no next step\n{stderr}"
    if stdout.strip():
        return f"{shown}: stdout is for results, not errors\n{stdout}"
    return None


@pytest.mark.parametrize("command", sorted(BAD_CASES))
def test_bad_values_end_with_exit_2_and_a_next_step(
    command: str, service: Served, port_taken: int, tmp_path: Path
) -> None:
    problems = []
    for case in BAD_CASES[command]:
        values = [a.replace(PORT_TAKEN, str(port_taken)) for a in case]
        args = [*command.split(), *(a.replace(FOLDER, str(tmp_path)) for a in values)]
        env = {k: v for k, v in service.env.items() if k.startswith(("HF_", "MODELWARD_"))}
        if "serve" in args[0:2]:  # a server of its own home: the service's is taken
            env["MODELWARD_HOME"] = str(tmp_path / "home")
        result = CliRunner().invoke(app, args, env=env, prog_name="modelward")
        shown = "modelward " + " ".join(args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"{shown}: raised {result.exception!r} (a traceback for a user)")
        elif problem := _explained(result.exit_code, result.stdout, result.stderr, shown):
            problems.append(problem)
    assert not problems, "\n\n".join(problems)


def test_the_program_itself_explains_bad_input(tmp_path: Path) -> None:
    """What a user saw: `cleanup --target-free abc` ended in a raw traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "modelward", "cleanup", "--target-free", "abc"],
        env=_env(tmp_path, "http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    shown = "modelward cleanup --target-free abc"
    assert _explained(result.returncode, result.stdout, result.stderr, shown) is None
    assert "'abc'" in result.stderr and "40GB" in result.stderr
