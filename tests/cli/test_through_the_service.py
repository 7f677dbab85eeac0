"""When a service runs for a MODELWARD_HOME, every command that starts, watches or controls
work goes through it: none answers from what this process could see by itself.

The commands run in a shell that knows only the home: its HF_HUB_CACHE is an empty folder
and its HF_ENDPOINT a port where nothing listens. An answer computed in this process would
find no model there and could not reach a hub; an answer from the service shows the
service's store, where the model was pulled. They run in this process (typer's runner, as
``modelward`` runs them), against a real service and the local hub, to stay fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from modelward.cli import app
from modelward.units import format_size
from tests.cli.conftest import Served
from tests.conftest import TI2V

T2V = "t2v-a14b"
AVAILABLE = "available"
Check = Callable[[Result], object]
"""Raises AssertionError (or KeyError...) when the answer did not come from the service."""


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _says(text: str, *, code: int = 0) -> Check:
    def check(result: Result) -> None:
        assert result.exit_code == code, result.output
        assert text in result.stdout + result.stderr, result.output

    return check


def _one(answers: list[dict[str, Any]], model_id: str = TI2V) -> dict[str, Any]:
    [found] = [a for a in answers if a.get("model_id", a.get("suggested_model")) == model_id]
    return found


def _cases(served: Served, size: int) -> list[tuple[list[str], Check]]:
    """Each command with a check that its answer is the service's (in the order run: the
    removal last). Here there is no model on disk and no hub to ask."""

    def cap_is_in_the_service(result: Result) -> None:
        _says("bandwidth limit: 20.0 MB/s")(result)
        assert served.api("GET", "/api/v1/bandwidth").json() == {"limit_bytes_per_s": 20_000_000}

    def removed_in_the_service(result: Result) -> None:
        _says(f"{TI2V}: freed {format_size(size)}")(result)
        status = served.api("GET", f"/api/v1/models/{TI2V}/status").json()
        assert status["availability_status"] != "available", status

    nothing_to_pause = f"{TI2V} is not downloading; nothing to pause"
    return [
        (["pull", TI2V], _says("already complete, nothing fetched")),
        (["status", TI2V, "--json"], lambda r: _one(_json(r))["availability_status"] == AVAILABLE),
        (["queue", "--json"], lambda r: _json(r) == [] and "no modelward service" not in r.stderr),
        (["pause", TI2V], _says(nothing_to_pause)),
        (["resume", TI2V], lambda r: r.exit_code == 0 and "no modelward service" not in r.output),
        (["cancel", TI2V], _says(f"{TI2V} was not downloading and had no partial data")),
        (["priority", TI2V, "high"], _says(f"{TI2V}: priority high.")),
        (["limit", "20MB/s"], cap_is_in_the_service),
        (["limit", "0"], _says("bandwidth limit: unlimited")),
        (["verify", "--json"], lambda r: _one(_json(r))["is_healthy"]),
        (["verify", TI2V, "--full", "--json"], lambda r: _one(_json(r))["bytes_hashed"] == size),
        (["health", "--json"], lambda r: _one(_json(r)["models"])["condition"] == "healthy"),
        (["repair", TI2V], _says(f"{TI2V}: healthy, nothing to repair")),
        (["update", "check", TI2V, "--json"], lambda r: not _one(_json(r))["update_available"]),
        (["update", "apply", TI2V], _says(f"{TI2V}: already at the newest version")),
        (["update", "policy", TI2V, "ask"], _says(f"{TI2V}: update policy ask")),
        (["update", "prune", TI2V], _says(f"{TI2V}: freed 0 B")),
        (["update", "rollback", TI2V], _says("no previous version", code=1)),
        (["request", "run", TI2V, "--prompt", "a lighthouse"], _says(f"ran on {TI2V}")),
        (["request", "list", "--json"], lambda r: _json(r) == []),
        (["request", "show", "no-such-request"], _says("request-unknown", code=2)),
        (["request", "cancel", "no-such-request"], _says("request-unknown", code=2)),
        (
            ["suggest", T2V, "--json"],
            lambda r: _one(_json(r)["alternatives"], TI2V)["availability_status"] == "available",
        ),
        (["cleanup", "--json"], lambda r: _one(_json(r)["kept"])["size_bytes"] == size),
        (
            ["cleanup", "--execute", "--json"],
            lambda r: _one(_json(r)["kept"])["size_bytes"] == size,
        ),
        (["rm", TI2V, "--dry-run"], _says(f"{TI2V}: would free {format_size(size)}")),
        (["rm", TI2V, "--yes"], removed_in_the_service),
    ]


# Every command the issue names (update and request with their subcommands).
THROUGH_THE_SERVICE = {
    "pull", "status", "queue", "pause", "resume", "cancel", "priority", "limit", "verify",
    "repair", "update", "request", "suggest", "cleanup", "rm", "health",
}  # fmt: skip


def test_every_command_goes_through_the_running_service(served: Served, tmp_path: Path) -> None:
    pulled = served.run("pull", TI2V)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    size = served.api("GET", f"/api/v1/models/{TI2V}/status").json()["size_bytes"]
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    ours = ("HF_", "MODELWARD_")
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(ours)}
    env |= {
        "MODELWARD_HOME": str(served.home),
        "HF_HUB_CACHE": str(empty),
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there
        "COLUMNS": "200",
    }
    # This shell without a service (another home) sees what this process sees: nothing.
    alone = CliRunner().invoke(
        app, ["status", TI2V, "--json"], env=env | {"MODELWARD_HOME": str(tmp_path / "other")}
    )
    assert _one(_json(alone))["availability_status"] == "missing", alone.output

    cases = _cases(served, size)
    assert {args[0] for args, _ in cases} == THROUGH_THE_SERVICE
    problems = []
    for args, check in cases:
        result = CliRunner().invoke(app, args, env=env, prog_name="modelward")
        shown = "modelward " + " ".join(args)
        try:
            ok = check(result)
        except (AssertionError, KeyError, ValueError) as exc:
            problems.append(f"{shown}: {exc!r}\n{result.output}")
            continue
        if ok is False:
            problems.append(f"{shown}: not the service's answer\n{result.output}")
    assert not problems, "\n\n".join(problems)
