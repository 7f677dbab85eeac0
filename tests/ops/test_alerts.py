"""docs/alerts.yml: valid Prometheus rules (promtool), naming only metrics the service
exports, so the rules cannot drift from /metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import StartService

ALERTS = Path(__file__).resolve().parents[2] / "docs" / "alerts.yml"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def rules() -> list[dict[str, object]]:
    """Every rule of every group."""
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="./dev test installs promtool")
def test_promtool_accepts_the_rules() -> None:
    checked = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_metric_an_alert_names_is_exported(start_service: StartService) -> None:
    scraped = start_service().client.get("/metrics").text
    exported = {
        family.name + suffix
        for family in text_string_to_metric_families(scraped)
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    named = {
        name for rule in rules() for name in re.findall(r"\bmodelward_[a-z_]+", str(rule["expr"]))
    }
    assert named and named <= exported, named - exported


def test_each_alert_says_what_to_do() -> None:
    wanted = {
        "ModelwardDownloadFailing",
        "ModelwardModelCorrupted",
        "ModelwardModelDegraded",
        "ModelwardDiskLow",
        "ModelwardMockOutputsServed",
    }
    found = {str(rule["alert"]): rule for rule in rules()}
    assert wanted <= set(found)
    for rule in found.values():
        notes = rule["annotations"]
        assert isinstance(notes, dict) and notes["summary"]
        assert "`modelward " in notes["description"], rule["alert"]
