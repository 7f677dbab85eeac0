"""Start-up: each command imports what its own work needs, and nothing answers slower for it.

Times are bench/startup.py's; here, which modules a command loads (a child process each, so
nothing this test session imported counts) and that the lazily loaded commands are the
same commands, listed with their own help.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from modelward import __version__
from modelward.cli import app
from modelward.cli.commands import LAZY

HEAVY = ("typer", "rich", "pydantic", "httpx", "sqlalchemy", "fastapi", "prometheus_client")
"""Libraries a command's imports would pull in; ``--version`` needs none of them."""


def _loaded_by(args: list[str], home: Path) -> set[str]:
    """The modules imported once ``modelward ARGS`` ran in a process of its own."""
    code = (
        "import json, sys\n"
        "from modelward.cli import main\n"
        f"sys.argv = ['modelward', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        # A None entry is an import refused on purpose (httpx's own CLI), not a module.
        "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)),"
        " file=sys.stderr)\n"
    )
    env = {"MODELWARD_HOME": str(home), "HF_HOME": str(home / "hf"), "PATH": "/usr/bin:/bin"}
    env["HF_ENDPOINT"] = "https://127.0.0.1:9"  # nothing listens: status fails fast
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_version_imports_no_library(tmp_path: Path) -> None:
    loaded = _loaded_by(["--version"], tmp_path)
    assert not _top(loaded) & set(HEAVY)
    assert "modelward.cli.app" not in loaded


def test_version_through_the_app_says_the_same() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"modelward {__version__}"


def test_help_imports_no_command_module_and_no_runtime(tmp_path: Path) -> None:
    loaded = _loaded_by(["--help"], tmp_path)
    assert not _top(loaded) & {"httpx", "sqlalchemy", "fastapi", "prometheus_client"}
    command_modules = {lazy.module for lazy in LAZY.values()} - {"modelward.cli.app"}
    assert not command_modules & loaded
    assert "modelward.runtime" not in loaded


def test_status_builds_no_service_and_no_other_command(tmp_path: Path) -> None:
    loaded = _loaded_by(["status"], tmp_path)
    assert "modelward.runtime" in loaded  # it did derive the statuses here
    # prometheus_client: metrics are built by the service; click and pygments: httpx's CLI.
    for unneeded in ("fastapi", "uvicorn", "starlette", "prometheus_client", "click", "pygments"):
        assert unneeded not in _top(loaded), unneeded
    others = {"control", "health", "ops", "adopt", "analytics", "requests", "updates"}
    assert not {f"modelward.cli.{name}" for name in others} & loaded
    assert "modelward.cli.client" not in loaded  # no service runs: no client to one


def _first_paragraph(command: object) -> str:
    if isinstance(command, typer.Typer):
        return inspect.cleandoc(str(command.info.help or ""))
    return (inspect.getdoc(command) or "").split("\n\n")[0]


def test_each_summary_is_its_commands_own_help() -> None:
    for name, lazy in LAZY.items():
        found = getattr(importlib.import_module(lazy.module), lazy.attribute)
        assert lazy.summary == _first_paragraph(found), name


def test_every_command_loads_under_its_name_in_the_listed_order() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    ctx = typer.Context(root)
    names = root.list_commands(ctx)
    assert names[:4] == ["pull", "status", "serve", "demo"]
    assert names[-1] == "hub"
    assert len(names) == len(set(names)) == len(LAZY)
    for name in names:
        command = root.get_command(ctx, name)
        assert command is not None and command.name == name, name


def test_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, lazy in LAZY.items():
        first_line = lazy.summary.split("\n")[0]
        assert f"{name} " in result.output
        assert first_line.split()[0] in result.output, name


def test_a_typo_of_a_lazy_command_is_answered_with_it() -> None:
    result = CliRunner().invoke(app, ["verfy"])
    assert result.exit_code == 2
    assert "Did you mean 'verify'?" in result.output
