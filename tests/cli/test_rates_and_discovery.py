"""The service's discovery file (rates and sizes: tests/test_units.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modelward.cli.discovery import (
    ServiceInfo,
    client_url,
    find_service,
    remove_service_info,
    service_file,
    write_service_info,
)
from modelward.errors import ServiceNotRunningError


def test_service_file_round_trip(tmp_path: Path) -> None:
    with pytest.raises(ServiceNotRunningError) as missing:
        find_service(tmp_path)
    assert "service.json" in missing.value.hint
    info = write_service_info(tmp_path, "http://127.0.0.1:1234")
    assert info == ServiceInfo("http://127.0.0.1:1234", os.getpid(), tmp_path)
    assert json.loads(service_file(tmp_path).read_text()) == {
        "url": "http://127.0.0.1:1234",
        "pid": os.getpid(),
        "home": str(tmp_path),
        "on_demand": False,
    }
    assert find_service(tmp_path) == info
    assert [p.name for p in tmp_path.iterdir()] == ["service.json"]  # no temp file left
    remove_service_info(tmp_path, info)
    assert not service_file(tmp_path).exists()


def test_a_service_file_another_service_wrote_is_left_alone(tmp_path: Path) -> None:
    ours = write_service_info(tmp_path, "http://127.0.0.1:1")
    service_file(tmp_path).write_text(json.dumps({"url": "http://127.0.0.1:2", "pid": 1}))
    remove_service_info(tmp_path, ours)
    assert service_file(tmp_path).exists()


@pytest.mark.parametrize("content", ["{", "[]", '{"url": 1, "pid": "x"}'])
def test_a_broken_service_file_means_no_service(tmp_path: Path, content: str) -> None:
    service_file(tmp_path).write_text(content)
    with pytest.raises(ServiceNotRunningError, match="no modelward service is running"):
        find_service(tmp_path)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:80"),
        ("0.0.0.0", "http://127.0.0.1:80"),
        ("::", "http://[::1]:80"),
        ("::1", "http://[::1]:80"),
        ("localhost", "http://localhost:80"),
    ],
)
def test_client_url_reaches_a_wildcard_bind(host: str, url: str) -> None:
    assert client_url(host, 80) == url
