"""The dashboard's typed client is generated from web/openapi.json: it must say what the
service says."""

from __future__ import annotations

import json
from pathlib import Path

from modelward.api.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def test_web_openapi_json_is_the_services_document() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == openapi_document(), (
        "web/openapi.json is out of date: run "
        "`.venv/bin/python -m modelward.api.openapi > web/openapi.json`, then "
        "`cd web && npm run gen:api`"
    )
