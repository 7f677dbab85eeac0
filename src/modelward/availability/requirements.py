"""What a generation job needs, and what modelward suggests for it (the seed's data)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

from modelward.errors import (
    BAD_PATH_ERRNOS,
    ConfigError,
    InputMissingError,
    InputNotFoundError,
    JobInputError,
)
from modelward.status import ModelAvailabilityStatus

Level = Literal["low", "medium", "high"]
Speed = Literal["slow", "medium", "fast"]
INPUTS = frozenset({"text", "image"})
_URL = re.compile(r"^https?://", re.IGNORECASE)
_LEVELS: tuple[Level, ...] = ("low", "medium", "high")
_SPEEDS: tuple[Speed, ...] = ("slow", "medium", "fast")
_RESOLUTION = re.compile(r"^[1-9]\d{1,4}x[1-9]\d{1,4}$")


@dataclass(frozen=True, slots=True)
class GenerationRequirements:
    """The seed's GenerationRequirements: what a job gives and needs."""

    quality: Level = "high"
    speed: Speed = "medium"
    inputs: frozenset[str] = frozenset({"text"})
    """What the job gives: text, an image, or both."""
    resolution: str | None = None
    """WIDTHxHEIGHT the job wants (None: any the model renders)."""
    vram_gb: float | None = None
    """GPU memory free for the job (None: read from the GPU, else from the setting)."""
    max_wait: timedelta | None = None
    """The longest the job may wait for a model to arrive."""

    def __post_init__(self) -> None:
        unknown = set(self.inputs) - INPUTS
        if not self.inputs or unknown:
            raise ConfigError(
                f"job inputs must be text, image or both, got {sorted(self.inputs)}",
                hint="Say what the job gives: text, image, or both (text,image).",
            )
        for name, value, allowed in (
            ("quality", self.quality, _LEVELS),
            ("speed", self.speed, _SPEEDS),
        ):
            if value not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}, got {value!r}",
                    hint=f"Say how much {name} the job needs: {', '.join(allowed)}.",
                )
        if self.resolution is not None and not _RESOLUTION.match(self.resolution):
            raise ConfigError(
                f"a resolution is WIDTHxHEIGHT in pixels, got {self.resolution!r}",
                hint="e.g. 1280x720",
            )


def job_inputs(prompt: str, image: str | None) -> frozenset[str]:
    """What a job gives: text when it has a prompt, an image when it names one."""
    given = frozenset({"text"} if prompt.strip() else set()) | ({"image"} if image else frozenset())
    if not given:
        raise InputMissingError(
            "the job gives neither a prompt nor an image",
            hint="Give a prompt (--prompt), an input image (--image), or both.",
        )
    return given


def check_image(image: str, base: Path | None = None) -> str:
    """The input image, checked: an http(s) URL is kept (the app fetches it); a path must
    name a file on this machine (:class:`InputNotFoundError` otherwise) and is returned
    absolute. A relative path is read from ``base`` (the CLI's folder), else refused."""
    if _URL.match(image):
        return image
    try:
        path = Path(image).expanduser()
    except RuntimeError:  # "~name/..." of no known user: taken as written, so not found
        path = Path(image)
    if base is not None:
        path = base / path
    if not path.is_absolute():
        raise JobInputError(
            f"the input image path {image} is relative: the service cannot tell where it is",
            hint="Give the image's absolute path (the CLI makes a relative one absolute).",
        )
    if not _is_file(path):
        raise InputNotFoundError(
            f"the input image {image} does not exist on the machine that runs the job",
            hint="Give the path of an existing image file there, or an http(s) URL.",
        )
    return str(path)


def _is_file(path: Path) -> bool:
    """Whether ``path`` names a file; one the system cannot look up (a name too long, a
    path through a file, a link loop) names none."""
    try:
        return path.is_file()
    except OSError as exc:
        if exc.errno not in BAD_PATH_ERRNOS:
            raise
        return False


class QualityDifference(StrEnum):
    """How an alternative's output quality compares with the requested model's."""

    SIMILAR = "similar"
    SLIGHTLY_LOWER = "slightly_lower"
    SIGNIFICANTLY_LOWER = "significantly_lower"


@dataclass(frozen=True, slots=True)
class ModelSuggestion:
    """The seed's ModelSuggestion: an alternative and what choosing it means."""

    suggested_model: str
    compatibility_score: float
    """How well the alternative fits the job, 0..1."""
    performance_difference: float
    """-1..1: negative is slower than the requested model, positive faster."""
    availability_status: ModelAvailabilityStatus
    reason: str
    estimated_quality_difference: QualityDifference
    needs: tuple[str, ...] = field(default_factory=tuple)
    """What the job must change to use it (a lower resolution, CPU offload)."""
