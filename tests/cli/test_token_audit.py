"""``modelward token`` and ``modelward audit``, and the audit records of what the CLI
changes in-process (actor ``cli:<os user>``) or asks a service to do."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner, Result

from modelward.cli.app import app
from modelward.cli.client import cli_actor
from modelward.db import Database
from modelward.devhub import DevHub
from modelward.ops.audit import AuditEntry, AuditLog
from modelward.settings import Settings
from tests.cli.conftest import Served, _env
from tests.conftest import TI2V


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env, prog_name="modelward")


def _records(home: Path) -> list[AuditEntry]:
    settings = Settings(cache_dir=home.parent / "cache", home=home)
    db = Database(settings.effective_database_url)
    try:
        return list(reversed(AuditLog(db).query(limit=1000)))
    finally:
        db.close()


def test_tokens_are_made_listed_and_revoked_without_a_service(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    home = tmp_path / "home"
    made = _invoke(env, "token", "create", "ci", "--scope", "operate")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("mw_") and token not in (home / "tokens.json").read_text()

    listed = _invoke(env, "token", "list")
    assert listed.exit_code == 0 and "ci" in listed.stdout and "operate" in listed.stdout
    assert f"…{token[-4:]}" in listed.stdout and token not in listed.stdout
    as_json = json.loads(_invoke(env, "token", "list", "--json").stdout)
    assert [(t["name"], t["scope"]) for t in as_json] == [("ci", "operate")]

    again = _invoke(env, "token", "create", "ci")
    assert again.exit_code == 2 and "exists" in again.output and "next step" in again.output
    bad = _invoke(env, "token", "create", "x", "--scope", "root")
    assert bad.exit_code == 2 and "read, operate, admin" in bad.output
    assert _invoke(env, "token", "revoke", "ci").exit_code == 0
    gone = _invoke(env, "token", "revoke", "ci")
    assert gone.exit_code == 2 and "token-unknown" in gone.output

    actor = cli_actor()
    assert [(r.actor, r.action, r.outcome, r.error_code) for r in _records(home)] == [
        (actor, "create-token", "ok", None),
        (actor, "create-token", "refused", "config-invalid"),
        (actor, "create-token", "refused", "config-invalid"),
        (actor, "revoke-token", "ok", None),
        (actor, "revoke-token", "refused", "token-unknown"),
    ]


def test_changes_made_here_are_recorded_and_audit_reads_them_here(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    assert _invoke(env, "limit", "10MB/s").exit_code == 0
    assert _invoke(env, "cancel", TI2V).exit_code == 0
    assert _invoke(env, "pin", TI2V).exit_code == 0

    shown = _invoke(env, "audit", "--json")
    assert shown.exit_code == 0, shown.output
    entries = json.loads(shown.stdout)
    assert [(e["action"], e["model_id"], e["outcome"]) for e in entries] == [
        ("pin", TI2V, "ok"),
        ("cancel", TI2V, "ok"),
        ("set-bandwidth", None, "ok"),
    ]
    assert {e["actor"] for e in entries} == {cli_actor()}
    assert entries[2]["params"] == {"limit_bytes_per_s": 10_000_000}

    table = _invoke(env, "audit", "--model", TI2V, "--since", "2d")
    assert table.exit_code == 0 and "cancel" in table.stdout and "set-bandwidth" not in table.stdout
    assert "no audit records match" in _invoke(env, "audit", "--action", "repair").stdout
    bad = _invoke(env, "audit", "--since", "soon")
    assert bad.exit_code == 2 and "30m" in bad.output


def test_the_service_records_what_the_cli_asks_with_the_cli_user(served: Served) -> None:
    assert served.run("pause", TI2V).returncode == 0
    shown = served.run("audit", "--json", "--action", "pause")
    assert shown.returncode == 0, shown.stderr
    [entry] = json.loads(shown.stdout)
    assert (entry["actor"], entry["token"], entry["outcome"]) == (cli_actor(), "service", "ok")

    made = served.run("token", "create", "reader", "--scope", "read")
    token = made.stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{served.url}/api/v1/models/{TI2V}/pause"
    assert httpx.post(url, headers=headers, timeout=10).status_code == 403
    assert served.run("token", "revoke", "reader").returncode == 0
    assert httpx.post(url, headers=headers, timeout=10).status_code == 401


def test_names_from_requests_are_shown_as_text_not_markup(
    tmp_path: Path, threaded_hub: DevHub
) -> None:
    env = _env(tmp_path, threaded_hub.url)
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(cache_dir=tmp_path / "cache", home=home)
    db = Database(settings.effective_database_url)
    try:
        AuditLog(db).record("cli:[/]x[bold]", "pause", model_id="[red]m[/]", error_code="[/]")
    finally:
        db.close()
    shown = _invoke(env, "audit")
    assert shown.exit_code == 0, shown.output
    assert "cli:[/]x[bold]" in shown.stdout and "[red]m[/]" in shown.stdout

    entry = {"name": "[/]evil", "scope": "read", "sha256": "0" * 64, "created_at": 1.0}
    (home / "tokens.json").write_text(
        json.dumps({"version": 1, "tokens": [entry | {"hint": "[/]"}]})
    )
    listed = _invoke(env, "token", "list")
    assert listed.exit_code == 0, listed.output
    assert "[/]evil" in listed.stdout and "…[/]" in listed.stdout


def test_a_broken_tokens_file_is_a_clear_error(tmp_path: Path, threaded_hub: DevHub) -> None:
    env = _env(tmp_path, threaded_hub.url)
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "tokens.json").write_text("{ not json")
    listed = _invoke(env, "token", "list")
    assert listed.exit_code != 0 and "tokens-file-invalid" in listed.output
    assert "Traceback" not in listed.output
