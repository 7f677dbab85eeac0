"""How well a catalog model fits a job: hard limits first, then a score with its reasons.

Pure functions over catalog data. A model that cannot take the job's inputs, cannot put
out what the requested model does, or needs more GPU memory than the job has is never a
candidate, and neither is one whose capabilities are not declared (nothing says it can do
the job); among the rest, quality, speed, resolution and memory headroom are scored, and
each difference from the requested model is said in words a person understands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from modelward.availability.requirements import GenerationRequirements, QualityDifference
from modelward.catalog import ModelSpec
from modelward.errors import InputMissingError, InputUnsupportedError

TIERS = {"low": 0, "medium": 1, "high": 2}
SPEED_NEEDED = {"slow": 0.0, "medium": 1.0, "fast": 2.0}
"""The relative speed (catalog units: Wan2.2 A14B = 1.0) each speed wish asks for."""
WEIGHTS = {"inputs": 0.15, "quality": 0.35, "speed": 0.15, "resolution": 0.2, "vram": 0.15}


@dataclass(frozen=True, slots=True)
class Fit:
    """How one candidate fits a job."""

    model_id: str
    score: float
    quality_difference: QualityDifference
    performance_difference: float
    reasons: tuple[str, ...]
    needs: tuple[str, ...]


def unknown_capabilities(candidate: ModelSpec, requested: ModelSpec | None) -> str | None:
    """Why nothing can be said about ``candidate`` serving the job (None: it is declared)."""
    caps = candidate.capabilities
    if not caps.inputs:
        return f"{candidate.id}: capabilities unknown (its catalog entry declares no inputs)"
    if requested is not None and requested.capabilities.outputs and not caps.outputs:
        return f"{candidate.id}: capabilities unknown (its catalog entry declares no outputs)"
    return None


def input_mismatch(spec: ModelSpec, given: frozenset[str]) -> str | None:
    """Why ``spec`` cannot take a job giving ``given`` (None: it can, or nothing is declared)."""
    caps = spec.capabilities
    if not caps.inputs or caps.accepts(given):
        return None
    missing = caps.required_inputs - given
    if missing:
        return f"{spec.id} needs {_nouns(missing)}; this job has {_job_inputs(given)}"
    if not given & caps.inputs:
        return f"{spec.id} needs {_nouns(caps.inputs, 'or')}; this job has {_job_inputs(given)}"
    extra = _nouns(given - caps.inputs)
    return f"{spec.id} takes only {_nouns(caps.inputs)}; this job also gives {extra}"


def check_job_inputs(spec: ModelSpec, given: frozenset[str], catalog: Iterable[ModelSpec]) -> None:
    """Refuse a job whose inputs ``spec`` cannot take: :class:`InputMissingError` when it
    lacks one the model requires, :class:`InputUnsupportedError` when it gives one the
    model cannot take; the hint names the models that take exactly these inputs."""
    why = input_mismatch(spec, given)
    if why is None:
        return
    takers = [m.id for m in catalog if m.id != spec.id and m.capabilities.accepts(given)]
    instead = (
        f", or ask for a model that takes {_job_inputs(given)}: {', '.join(takers)}"
        if takers
        else ""
    )
    caps = spec.capabilities
    if caps.required_inputs - given or not given & caps.inputs:
        needed = (caps.required_inputs - given) or caps.inputs
        raise InputMissingError(why, hint=f"Give the job {_nouns(needed, 'or')}{instead}.")
    raise InputUnsupportedError(
        why, hint=f"Leave out {_nouns(given - caps.inputs).replace('an ', 'the ')}{instead}."
    )


def vram_shortfall(spec: ModelSpec, vram_gb: float | None) -> str | None:
    """Why ``spec`` cannot run in ``vram_gb`` of GPU memory even with offload (None: it can)."""
    if vram_gb is None or not spec.vram_min_gb or spec.vram_min_gb <= vram_gb:
        return None
    return (
        f"{spec.id} needs at least {spec.vram_min_gb:g} GB of GPU memory "
        f"(even with offload), the job has {vram_gb:g} GB"
    )


def exclusion(
    candidate: ModelSpec, requested: ModelSpec | None, req: GenerationRequirements
) -> str | None:
    """Why ``candidate`` can never serve the job, or None when it can."""
    unknown = unknown_capabilities(candidate, requested)
    if unknown is not None:
        return unknown
    mismatch = input_mismatch(candidate, req.inputs)
    if mismatch is not None:
        return mismatch
    if requested is not None:
        wanted = requested.capabilities.outputs
        if wanted and not wanted <= candidate.capabilities.outputs:
            return f"{candidate.id} does not make {', '.join(sorted(wanted))}"
    return vram_shortfall(candidate, req.vram_gb)


def offers(spec: ModelSpec) -> str:
    """What ``spec`` takes and renders, in words ("takes text, an image or both at 720p")."""
    caps = spec.capabilities
    if not caps.inputs:
        return f"{spec.id}: capabilities unknown"
    if caps.required_inputs and caps.required_inputs != caps.inputs:
        optional = caps.inputs - caps.required_inputs
        takes = f"{_nouns(caps.required_inputs)} (optionally with {_nouns(optional)})"
    elif len(caps.inputs) > 1 and not caps.required_inputs:
        takes = f"{', '.join(_nouns(caps.inputs).split(' and '))} or both"
    else:
        takes = _nouns(caps.inputs)
    labels = sorted({_label(r) for r in caps.resolutions}, key=lambda s: int(s[:-1]))
    at = f" at {' or '.join(labels)}" if labels else ""
    return f"{spec.id} takes {takes}{at}"


_NOUNS = {"text": "text", "image": "an image"}
_STANDARD_HEIGHTS = (360, 480, 540, 720, 1080, 1440, 2160)


def _nouns(inputs: frozenset[str] | set[str], joiner: str = "and") -> str:
    words = [_NOUNS.get(i, i) for i in sorted(inputs, key=lambda i: (i != "text", i))]
    return f" {joiner} ".join(words) if len(words) < 3 else ", ".join(words)


def _job_inputs(given: frozenset[str]) -> str:
    return f"only {_nouns(given)}" if len(given) == 1 else _nouns(given)


def _label(resolution: str) -> str:
    """A resolution's everyday name: 1280x704 renders a 720p-class video."""
    width, _, height = resolution.partition("x")
    short = min(int(width), int(height))
    return f"{min(_STANDARD_HEIGHTS, key=lambda h: abs(h - short))}p"


def fit(
    candidate: ModelSpec, requested: ModelSpec | None, req: GenerationRequirements
) -> Fit | None:
    """Score ``candidate`` for the job (None when it is excluded)."""
    if exclusion(candidate, requested, req) is not None:
        return None
    reasons: list[str] = [offers(candidate)]
    needs: list[str] = []
    quality, quality_diff = _quality(candidate, requested, req, reasons)
    speed, performance = _speed(candidate, requested, req, reasons)
    resolution = _resolution(candidate, req, reasons, needs)
    vram = _vram(candidate, req, reasons, needs)
    score = (
        WEIGHTS["inputs"]
        + WEIGHTS["quality"] * quality
        + WEIGHTS["speed"] * speed
        + WEIGHTS["resolution"] * resolution
        + WEIGHTS["vram"] * vram
    )
    return Fit(
        candidate.id,
        round(score, 4),
        quality_diff,
        round(performance, 3),
        tuple(reasons),
        tuple(needs),
    )


def _quality(
    candidate: ModelSpec,
    requested: ModelSpec | None,
    req: GenerationRequirements,
    reasons: list[str],
) -> tuple[float, QualityDifference]:
    tier = TIERS.get(candidate.quality_tier or "medium", 1)
    gap = TIERS[req.quality] - tier
    score = 1.0 if gap <= 0 else 0.6 if gap == 1 else 0.2
    reference = (
        TIERS.get(requested.quality_tier or "medium", 1) if requested else TIERS[req.quality]
    )
    below = reference - tier
    diff = (
        QualityDifference.SIMILAR
        if below <= 0
        else QualityDifference.SLIGHTLY_LOWER
        if below == 1
        else QualityDifference.SIGNIFICANTLY_LOWER
    )
    own = candidate.quality_tier or "unstated"
    theirs = requested.quality_tier if requested is not None else None
    if requested is not None and theirs and candidate.quality_tier and below != 0:
        side = "lower" if below > 0 else "higher"
        reasons.append(f"quality {own}, {side} than {requested.id}'s {theirs}")
    elif gap > 0:
        reasons.append(f"quality {own}, the job asks {req.quality}")
    return score, diff


def _speed(
    candidate: ModelSpec,
    requested: ModelSpec | None,
    req: GenerationRequirements,
    reasons: list[str],
) -> tuple[float, float]:
    own = candidate.relative_speed or 1.0
    needed = SPEED_NEEDED[req.speed]
    score = 1.0 if own >= needed else own / needed
    if own < needed:
        reasons.append(f"slower than a {req.speed} job wants")
    base = (requested.relative_speed or 1.0) if requested else 1.0
    performance = (own - base) / (own + base)
    # Compared only with a stated speed: an unknown one is no baseline to be faster than.
    if requested is not None and requested.relative_speed and abs(own / base - 1) >= 0.2:
        ratio = own / base
        reasons.append(
            f"about {ratio:.1f}x as fast as {requested.id}"
            if ratio > 1
            else f"about {1 / ratio:.1f}x slower than {requested.id}"
        )
    return score, performance


def _resolution(
    candidate: ModelSpec, req: GenerationRequirements, reasons: list[str], needs: list[str]
) -> float:
    offered = candidate.capabilities.resolutions
    if req.resolution is None or not offered or req.resolution in offered:
        return 1.0
    wanted = _pixels(req.resolution)
    lower = [r for r in offered if _pixels(r) <= wanted]
    nearest = max(lower, key=_pixels) if lower else min(offered, key=_pixels)
    reasons.append(f"does not render {req.resolution}; the nearest it renders is {nearest}")
    needs.append(f"render at {nearest} instead of {req.resolution}")
    return 0.4


def _vram(
    candidate: ModelSpec, req: GenerationRequirements, reasons: list[str], needs: list[str]
) -> float:
    if req.vram_gb is None or candidate.vram_min_gb is None:
        return 0.9  # unknown: neither a fit nor a misfit is certain
    recommended = candidate.vram_recommended_gb or candidate.vram_min_gb
    if req.vram_gb >= recommended:
        return 1.0
    reasons.append(
        f"fits {req.vram_gb:g} GB of GPU memory only with CPU offload ({recommended:g} GB without)"
    )
    needs.append("enable CPU offload (model and text encoder)")
    return 0.75


def _pixels(resolution: str) -> int:
    width, _, height = resolution.partition("x")
    return int(width) * int(height)
