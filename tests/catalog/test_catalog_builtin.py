"""The built-in catalog loads and its figures are sane."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from modelward.catalog import Catalog, ModelSpec, load_catalog

GB = 1_000_000_000


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_catalog()


def test_builtin_has_the_three_wan_models_in_order(builtin: Catalog) -> None:
    assert builtin.ids() == ("t2v-a14b", "i2v-a14b", "ti2v-5b")
    assert {spec.repo for spec in builtin} == {
        "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
        "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    }
    for spec in builtin:
        assert spec.revision == "main"
        assert spec.source == "hub"
        assert builtin.origin(spec.id) == "built-in"


def test_builtin_capabilities(builtin: Catalog) -> None:
    t2v, i2v, ti2v = (builtin.get(i).capabilities for i in builtin.ids())
    assert t2v.inputs == {"text"} and t2v.accepts({"text"}) and not t2v.accepts({"image"})
    assert i2v.accepts({"image", "text"}) and i2v.accepts({"image"})
    assert not i2v.accepts({"text"})
    assert ti2v.accepts({"text"}) and ti2v.accepts({"image"}) and ti2v.accepts({"image", "text"})
    for caps in (t2v, i2v, ti2v):
        assert caps.outputs == {"video"}
    assert "1280x720" in t2v.resolutions and "832x480" in t2v.resolutions
    assert ti2v.resolutions == ("1280x704", "704x1280")
    assert (t2v.frame_rate_fps, i2v.frame_rate_fps, ti2v.frame_rate_fps) == (16, 16, 24)


def test_builtin_figures_are_sane(builtin: Catalog) -> None:
    t2v, i2v, ti2v = (builtin.get(i) for i in builtin.ids())
    for spec in (t2v, i2v):
        assert spec.quality_tier == "high"
        assert spec.vram_min_gb == 80
        assert spec.expected_size_bytes is not None
        assert 110 * GB < spec.expected_size_bytes < 140 * GB
    assert ti2v.quality_tier == "medium"
    assert ti2v.vram_min_gb == 24
    assert ti2v.expected_size_bytes is not None and 25 * GB < ti2v.expected_size_bytes < 45 * GB
    assert ti2v.relative_speed is not None and t2v.relative_speed is not None
    assert ti2v.relative_speed > t2v.relative_speed
    for spec in builtin:
        assert spec.vram_recommended_gb is not None and spec.vram_min_gb is not None
        assert spec.vram_min_gb <= spec.vram_recommended_gb
        assert spec.display_name and spec.description


def test_builtin_toml_ships_as_package_data() -> None:
    resource = resources.files("modelward.catalog").joinpath("builtin.toml")
    assert "models" in tomllib.loads(resource.read_text(encoding="utf-8"))


def test_specs_are_frozen(builtin: Catalog) -> None:
    spec = builtin.get("ti2v-5b")
    with pytest.raises(ValueError, match="frozen"):
        spec.revision = "other"  # type: ignore[misc]
    assert isinstance(hash(spec), int)
    assert isinstance(spec, ModelSpec)
