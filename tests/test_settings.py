"""Settings: the service token kept between runs, and the environment the HF tools share."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from modelward.errors import ConfigError
from modelward.settings import Settings


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"cache_dir": tmp_path / "cache", "home": tmp_path / "home"}
    values.update(overrides)
    return Settings.model_validate(values)


def test_a_service_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    fresh = _settings(tmp_path)
    assert fresh.api_token is None
    first, generated = fresh.ensure_api_token()
    assert generated is True
    assert first.api_token and len(first.api_token) >= 16
    token_file = tmp_path / "home" / "api-token"
    assert token_file == fresh.api_token_file
    assert token_file.read_text(encoding="utf-8").strip() == first.api_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again, generated_again = _settings(tmp_path).ensure_api_token()
    assert generated_again is False
    assert again.api_token == first.api_token
    assert again.cache_dir == fresh.cache_dir and again.home == fresh.home


def test_an_explicit_service_token_is_kept(tmp_path: Path) -> None:
    explicit = _settings(tmp_path, api_token="given-token")
    kept, generated = explicit.ensure_api_token()
    assert generated is False
    assert kept.api_token == "given-token"
    assert not explicit.api_token_file.exists()


def test_from_env_prefers_hf_hub_cache_over_hf_home(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HF_HUB_CACHE": str(tmp_path / "hub-cache"),
            "HF_HOME": str(tmp_path / "hf-home"),
            "MODELWARD_HOME": str(tmp_path / "mw"),
        }
    )
    assert settings.cache_dir == tmp_path / "hub-cache"
    assert settings.home == tmp_path / "mw"


def test_from_env_uses_hf_home_hub_and_its_token_file(tmp_path: Path) -> None:
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text("hf_from_file\n", encoding="utf-8")
    settings = Settings.from_env({"HF_HOME": str(hf_home), "MODELWARD_HOME": str(tmp_path / "mw")})
    assert settings.cache_dir == hf_home / "hub"
    assert settings.home == tmp_path / "mw"
    assert settings.hf_token == "hf_from_file"


def test_from_env_hf_token_wins_over_the_token_file(tmp_path: Path) -> None:
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text("hf_from_file\n", encoding="utf-8")
    settings = Settings.from_env(
        {
            "HF_HOME": str(hf_home),
            "HF_TOKEN": "hf_from_env",
            "MODELWARD_HOME": str(tmp_path / "mw"),
        }
    )
    assert settings.hf_token == "hf_from_env"


def test_from_env_without_a_token_has_none(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"HF_HOME": str(tmp_path / "empty-hf-home"), "MODELWARD_HOME": str(tmp_path / "mw")}
    )
    assert settings.hf_token is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://hub.example.org", "https://hub.example.org"),
        ("https://hub.example.org/mirror//", "https://hub.example.org/mirror"),
    ],
)
def test_from_env_reads_the_endpoint_without_trailing_slash(
    tmp_path: Path, raw: str, expected: str
) -> None:
    settings = Settings.from_env(
        {"HF_ENDPOINT": raw, "HF_HOME": str(tmp_path / "hf"), "MODELWARD_HOME": str(tmp_path)}
    )
    assert settings.endpoint == expected


@pytest.mark.parametrize("raw", ["localhost:9", "ftp://hub.example.org", "hub.example.org"])
def test_an_endpoint_that_is_not_an_http_url_is_a_config_error(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(
            {"HF_ENDPOINT": raw, "HF_HOME": str(tmp_path / "hf"), "MODELWARD_HOME": str(tmp_path)}
        )
    assert raw in refused.value.message
    assert "endpoint" in refused.value.message.lower()
