"""Rates as people write them, and the service's discovery file."""

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
from modelward.cli.rates import format_rate, parse_rate
from modelward.errors import ConfigError, ServiceNotRunningError


@pytest.mark.parametrize(
    ("text", "bytes_per_s"),
    [
        ("20MB/s", 20_000_000),
        ("20 MB/s", 20_000_000),
        ("20mb", 20_000_000),
        ("20MiB", 20 * 2**20),
        ("20MiB/s", 20 * 2**20),
        ("1.5GB/s", 1_500_000_000),
        ("500k", 500_000),
        ("500KiB/s", 500 * 1024),
        ("1000", 1000),
        ("0", 0),
        ("unlimited", 0),
        ("Off", 0),
    ],
)
def test_rates_parse(text: str, bytes_per_s: int) -> None:
    assert parse_rate(text) == bytes_per_s


@pytest.mark.parametrize("text", ["", "fast", "-5MB/s", "20XB/s", "MB/s", "tiny", "2Mbps"])
def test_bad_rates_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert "20MB/s" in info.value.hint


def test_rates_format_for_people() -> None:
    assert format_rate(0) == "unlimited"
    assert format_rate(20e6 / 2**20) == "20.0 MB/s (19.07 MiB/s)"


def test_service_file_round_trip(tmp_path: Path) -> None:
    with pytest.raises(ServiceNotRunningError) as missing:
        find_service(tmp_path)
    assert "service.json" in missing.value.hint
    info = write_service_info(tmp_path, "http://127.0.0.1:1234")
    assert info == ServiceInfo("http://127.0.0.1:1234", os.getpid())
    assert json.loads(service_file(tmp_path).read_text()) == {
        "url": "http://127.0.0.1:1234",
        "pid": os.getpid(),
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
