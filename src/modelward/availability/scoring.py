"""How well a catalog model fits a job: hard limits first, then a score with its reasons.

Pure functions over catalog data. A model that cannot take the job's inputs, cannot put
out what the requested model does, or needs more GPU memory than the job has is never a
candidate; among the rest, quality, speed, resolution and memory headroom are scored, and
each shortfall is said in words a person understands.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelward.availability.requirements import GenerationRequirements, QualityDifference
from modelward.catalog import ModelSpec

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


def exclusion(
    candidate: ModelSpec, requested: ModelSpec | None, req: GenerationRequirements
) -> str | None:
    """Why ``candidate`` can never serve the job, or None when it can."""
    caps = candidate.capabilities
    if caps.inputs and not caps.accepts(req.inputs):
        if caps.required_inputs - req.inputs:
            missing = ", ".join(sorted(caps.required_inputs - req.inputs))
            return f"{candidate.id} needs {missing} as input, which the job does not give"
        extra = ", ".join(sorted(req.inputs - caps.inputs))
        return f"{candidate.id} cannot take {extra} as input"
    if requested is not None:
        wanted = requested.capabilities.outputs
        if wanted and caps.outputs and not wanted <= caps.outputs:
            return f"{candidate.id} does not make {', '.join(sorted(wanted))}"
    if req.vram_gb is not None and candidate.vram_min_gb and candidate.vram_min_gb > req.vram_gb:
        return (
            f"{candidate.id} needs at least {candidate.vram_min_gb:g} GB of GPU memory "
            f"(even with offload), the job has {req.vram_gb:g} GB"
        )
    return None


def fit(
    candidate: ModelSpec, requested: ModelSpec | None, req: GenerationRequirements
) -> Fit | None:
    """Score ``candidate`` for the job (None when it is excluded)."""
    if exclusion(candidate, requested, req) is not None:
        return None
    reasons: list[str] = []
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
    if gap > 0:
        reasons.append(
            f"quality {candidate.quality_tier or 'unstated'}, the job asks {req.quality}"
        )
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
    if requested is not None and abs(own / base - 1) >= 0.2:
        ratio = own / base
        words = f"about {ratio:.1f}x as fast" if ratio > 1 else f"about {1 / ratio:.1f}x slower"
        reasons.append(f"{words} as {requested.id}")
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
