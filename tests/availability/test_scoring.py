"""Compatibility scoring over the built-in catalog: hard limits, ranges, reasons."""

from __future__ import annotations

import itertools

import pytest

from modelward.availability import GenerationRequirements, QualityDifference, exclusion, fit
from modelward.catalog import load_catalog
from modelward.errors import ConfigError

CATALOG = load_catalog([], env={})
T2V, I2V, TI2V = (CATALOG.get(m) for m in ("t2v-a14b", "i2v-a14b", "ti2v-5b"))

ALL_REQUIREMENTS = [
    GenerationRequirements(quality=q, speed=s, inputs=frozenset(i), resolution=r, vram_gb=v)
    for q, s, i, r, v in itertools.product(
        ("low", "medium", "high"),
        ("slow", "medium", "fast"),
        ({"text"}, {"image"}, {"text", "image"}),
        (None, "1280x720", "1920x1080"),
        (None, 16.0, 24.0, 48.0, 80.0),
    )
]


def test_a_text_only_t2v_job_gets_ti2v_with_a_stated_trade_off() -> None:
    req = GenerationRequirements(quality="high", speed="medium")
    assert fit(I2V, T2V, req) is None  # I2V needs an image
    assert exclusion(I2V, T2V, req) == "i2v-a14b needs an image; this job has only text"
    ti2v = fit(TI2V, T2V, req)
    assert ti2v is not None and ti2v.score > 0.7
    assert ti2v.quality_difference is QualityDifference.SLIGHTLY_LOWER
    assert ti2v.performance_difference > 0  # faster than T2V-A14B
    assert any("quality medium" in r for r in ti2v.reasons)
    assert any("3.0x as fast" in r for r in ti2v.reasons)


def test_no_candidate_breaks_a_hard_limit_and_every_score_is_in_range() -> None:
    pairs = itertools.permutations((T2V, I2V, TI2V), 2)
    for (requested, candidate), req in itertools.product(list(pairs), ALL_REQUIREMENTS):
        scored = fit(candidate, requested, req)
        caps = candidate.capabilities
        if scored is None:
            assert exclusion(candidate, requested, req)
            continue
        assert caps.accepts(req.inputs), (candidate.id, req)
        if req.vram_gb is not None:
            assert candidate.vram_min_gb is None or candidate.vram_min_gb <= req.vram_gb
        assert 0.0 <= scored.score <= 1.0
        assert -1.0 <= scored.performance_difference <= 1.0
        assert fit(candidate, requested, req) == scored  # deterministic


def test_shortfalls_say_what_would_make_it_fit() -> None:
    req = GenerationRequirements(quality="medium", resolution="1920x1080", vram_gb=32.0)
    ti2v = fit(TI2V, T2V, req)
    assert ti2v is not None
    assert any("CPU offload" in n for n in ti2v.needs)
    assert any("1280x704" in n for n in ti2v.needs)  # the nearest lower resolution
    assert fit(T2V, TI2V, req) is None and "80 GB" in (exclusion(T2V, TI2V, req) or "")


def test_bad_job_inputs_are_refused_with_what_to_do() -> None:
    with pytest.raises(ConfigError) as refused:
        GenerationRequirements(inputs=frozenset({"audio"}))
    assert "text, image or both" in refused.value.message and refused.value.hint
