"""Sizes and rates as people write and read them: one table for every surface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelward.errors import ConfigError
from modelward.settings import Settings
from modelward.units import (
    GB,
    MAX_RATE_BYTES_PER_S,
    MB,
    RATE_FORMS,
    check_rate,
    format_rate,
    format_size,
    format_speed,
    parse_rate,
    parse_size,
)

# The dashboard (web/src/format.test.ts) reads the same cases: both surfaces agree.
CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "web" / "src" / "units-cases.json").read_text()
)


@pytest.mark.parametrize(("text", "bytes_per_s"), CASES["rates"])
def test_rates_parse(text: str, bytes_per_s: int) -> None:
    assert parse_rate(text) == bytes_per_s


@pytest.mark.parametrize(("text", "why"), CASES["rates_refused"])
def test_bad_rates_are_refused_saying_how_to_write_one(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert why.lower() in info.value.message.lower()
    assert info.value.code == "config-invalid" and RATE_FORMS in info.value.hint


def test_bits_or_bytes_is_asked_not_guessed() -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate("20Mb/s")
    assert info.value.hint.startswith("Write MB/s for bytes or Mbit/s for bits")


def test_a_rate_in_bytes_is_checked_against_the_same_bounds() -> None:
    assert check_rate(20 * MB) == 20 * MB
    assert check_rate(0) == 0
    for bad in (-1, MAX_RATE_BYTES_PER_S + 1):
        with pytest.raises(ConfigError) as info:
            check_rate(bad)
        assert f"{bad} bytes/s" in info.value.message and "20MB/s" in info.value.hint


@pytest.mark.parametrize(("text", "size_bytes"), CASES["sizes"])
def test_sizes_parse(text: str, size_bytes: int) -> None:
    assert parse_size(text) == size_bytes


@pytest.mark.parametrize(("text", "why"), CASES["sizes_refused"])
def test_bad_sizes_are_refused_saying_how_to_write_one(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(text)
    assert why.lower() in info.value.message.lower() and "40GB" in info.value.hint


@pytest.mark.parametrize(("size_bytes", "shown"), CASES["formatted_sizes"])
def test_sizes_format_in_decimal_units(size_bytes: int, shown: str) -> None:
    assert format_size(size_bytes) == shown


@pytest.mark.parametrize(("rate", "shown"), CASES["formatted_rates"])
def test_caps_format_with_zero_as_unlimited(rate: int, shown: str) -> None:
    assert format_rate(rate) == shown


@pytest.mark.parametrize(("speed", "shown"), CASES["formatted_speeds"])
def test_speeds_format_with_zero_as_nothing_moving(speed: int, shown: str) -> None:
    assert format_speed(speed) == shown


def test_rates_and_speeds_format_alike_except_at_zero() -> None:
    assert format_rate(20_000_000) == format_speed(20_000_000) == "20.0 MB/s"
    assert format_rate(0) == "unlimited"  # a cap of nothing is no cap
    assert format_speed(0) == "0 B/s"  # nothing moving is not "unlimited"
    assert format_rate(parse_rate("160Mbit/s")) == "20.0 MB/s"


@pytest.mark.parametrize("text", ["20MB/s", "1.5GiB/s", "160Mbit/s", "750kB/s", "3.3GB/s"])
def test_a_shown_rate_reads_back_within_its_rounding(text: str) -> None:
    rate = parse_rate(text)
    assert parse_rate(format_rate(rate).replace(" ", "").replace(",", "")) == pytest.approx(
        rate, rel=0.005
    )


def test_settings_from_the_environment_take_units(tmp_path: Path) -> None:
    env = {"HF_HUB_CACHE": str(tmp_path / "cache"), "MODELWARD_HOME": str(tmp_path / "home")}
    settings = Settings.from_env(
        env
        | {
            "MODELWARD_BANDWIDTH_LIMIT": "160Mbit/s",
            "MODELWARD_LOW_SPACE": "50GB",
            "MODELWARD_SCRUB_BUDGET": "16GiB",
        }
    )
    assert settings.bandwidth_limit_bytes_per_s == 20 * MB
    assert settings.low_space_bytes == 50 * GB and settings.scrub_budget_bytes == 16 * 2**30
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env | {"MODELWARD_BANDWIDTH_LIMIT": "20"})
    assert info.value.message == "MODELWARD_BANDWIDTH_LIMIT: '20' has no unit"
    assert "20MB/s" in info.value.hint
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env | {"MODELWARD_LOW_SPACE": "50"})
    assert info.value.message.startswith("MODELWARD_LOW_SPACE:") and "40GB" in info.value.hint
