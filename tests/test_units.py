"""Sizes and rates as people write and read them: one table for every surface."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("text", "bytes_per_s"),
    [
        ("20MB/s", 20_000_000),
        ("20 MB/s", 20_000_000),
        ("20 MB / s", 20_000_000),
        ("20mb", 20_000_000),
        ("20MB", 20_000_000),
        ("20MBps", 20_000_000),
        ("160Mbit/s", 20_000_000),
        ("160Mbps", 20_000_000),
        ("1Gbit/s", 125_000_000),
        ("1.5GiB/s", 1_610_612_736),
        ("20MiB/s", 20 * 2**20),
        ("500KiB/s", 500 * 1024),
        ("500kB/s", 500_000),
        (".5GB/s", 500_000_000),
        ("1TB/s", MAX_RATE_BYTES_PER_S),
        ("0", 0),
        ("0MB/s", 0),
        ("unlimited", 0),
        ("Off", 0),
        ("none", 0),
    ],
)
def test_rates_parse(text: str, bytes_per_s: int) -> None:
    assert parse_rate(text) == bytes_per_s


@pytest.mark.parametrize("text", ["20", "1000", "1.5", " 7 "])
def test_a_rate_without_a_unit_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert "no unit" in info.value.message
    for form in ("20MB/s", "160Mbit/s", "1.5GiB/s"):
        assert form in info.value.hint


@pytest.mark.parametrize(
    "text", ["", "fast", "-5MB/s", "20XB/s", "MB/s", "tiny", "20M", "500k", "0.1B/s", "20MB/h"]
)
def test_bad_rates_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert info.value.code == "config-invalid"
    assert RATE_FORMS in info.value.hint


@pytest.mark.parametrize("text", ["20Mb/s", "1Gb", "5Kb/s"])
def test_bits_or_bytes_is_asked_not_guessed(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert "bits or bytes" in info.value.message
    assert "B/s for bytes" in info.value.hint and "bit/s for bits" in info.value.hint


@pytest.mark.parametrize("text", ["2TB/s", "1000000GB/s", "9000Tbit/s"])
def test_absurd_rates_are_refused(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text)
    assert "outside 0 to 1.00 TB/s" in info.value.message


def test_a_rate_in_bytes_is_checked_against_the_same_bounds() -> None:
    assert check_rate(20 * MB) == 20 * MB
    assert check_rate(0) == 0
    for bad in (-1, MAX_RATE_BYTES_PER_S + 1):
        with pytest.raises(ConfigError) as info:
            check_rate(bad)
        assert f"{bad} bytes/s" in info.value.message and "20MB/s" in info.value.hint


@pytest.mark.parametrize(
    ("text", "size_bytes"),
    [
        ("40GB", 40 * GB),
        ("40 gb", 40 * GB),
        ("500MB", 500 * MB),
        ("1.5TB", 1_500_000_000_000),
        ("20GiB", 20 * 2**30),
        ("1.5TiB", int(1.5 * 2**40)),
        ("12kB", 12_000),
        ("3B", 3),
        ("0", 0),
        ("0GB", 0),
    ],
)
def test_sizes_parse(text: str, size_bytes: int) -> None:
    assert parse_size(text) == size_bytes


@pytest.mark.parametrize("text", ["200", "1.5"])
def test_a_size_without_a_unit_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(text)
    assert "no unit" in info.value.message and "40GB" in info.value.hint


@pytest.mark.parametrize("text", ["", "abc", "-5GB", "20MB/s", "5Mbit", "GB", "1e9"])
def test_bad_sizes_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(text)
    assert "40GB" in info.value.hint


@pytest.mark.parametrize(
    ("size_bytes", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (12_000, "12.0 kB"),
        (999_999, "1.00 MB"),  # rounds up into the next unit, never "1,000 kB"
        (20 * MB, "20.0 MB"),
        (456_789_000, "457 MB"),
        (5 * 2**20, "5.24 MB"),  # binary input, decimal output
        (1_234_567_890, "1.23 GB"),
        (40 * 2**30, "42.9 GB"),
        (12_300_000_000_000, "12.3 TB"),
        (1_234_000_000_000_000, "1,234 TB"),
    ],
)
def test_sizes_format_in_decimal_units(size_bytes: int, shown: str) -> None:
    assert format_size(size_bytes) == shown


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
