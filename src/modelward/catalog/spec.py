"""What a catalog entry declares: one model, where its files come from, what it can do.

These are frozen pydantic models validated at the edge (the catalog loader); every layer
after it trusts them. Validators raise ``ValueError`` whose text says what is expected, so
the loader can name the file, entry and field in a :class:`~modelward.errors.CatalogError`.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)

# Same bounds the sources enforce on hub metadata; a catalog pin past them is a typo.
MAX_FILE_SIZE_BYTES = 4 * 1024**4
MAX_PATH_CHARS = 1024

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Hub rules: each part starts with a letter or digit, at most 96 characters, no "--" or ".."
# (the cache folder name "models--org--name" relies on "--" never appearing in a part).
_REPO_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_REVISION_RE = re.compile(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_RESOLUTION_RE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")

Input = Literal["text", "image"]
Output = Literal["video", "image"]
QualityTier = Literal["low", "medium", "high"]
SourceKind = Literal["hub", "url"]


def _check_id(value: str) -> str:
    if not _ID_RE.match(value) or len(value) > 64:
        raise ValueError(
            "expected a short slug of lowercase letters, digits, '.', '_' or '-' "
            f"starting with a letter or digit (like 't2v-a14b'), got {value!r}"
        )
    return value


def _check_repo(value: str) -> str:
    parts = value.split("/")
    if (
        len(parts) != 2
        or not all(_REPO_PART_RE.match(p) for p in parts)
        or any("--" in p or ".." in p or p.endswith((".", "-")) for p in parts)
    ):
        raise ValueError(
            f"expected a Hub repo id 'org/name' (like 'Wan-AI/Wan2.2-T2V-A14B'), got {value!r}"
        )
    return value


def _check_revision(value: str) -> str:
    # Revisions become file names under refs/, so nothing that could climb out of it.
    if (
        not _REVISION_RE.match(value)
        or len(value) > 255
        or ".." in value
        or "//" in value
        or value.endswith(("/", ".lock"))
    ):
        raise ValueError(f"expected a branch, tag or 40-hex commit id, got {value!r}")
    return value


def _check_relative_path(value: str) -> str:
    problem = _relative_path_problem(value)
    if problem:
        raise ValueError(f"expected a safe repo-relative path, got {value!r} ({problem})")
    return value


def _relative_path_problem(value: str) -> str:
    if not value:
        return "empty"
    if len(value) > MAX_PATH_CHARS:
        return f"longer than {MAX_PATH_CHARS} characters"
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return "control characters"
    if "\\" in value:
        return "backslash; use '/'"
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        return "absolute"
    if any(part in ("", ".", "..") for part in value.split("/")):
        return "empty, '.' or '..' component"
    return ""


def _check_glob(value: str) -> str:
    if not value:
        raise ValueError("expected a non-empty glob pattern, got ''")
    if value.startswith("/"):
        raise ValueError(f"expected a glob on repo-relative paths (no leading '/'), got {value!r}")
    return value


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def _check_mirror_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"expected an s3://BUCKET/PREFIX mirror address, got {value!r}")
    return value.rstrip("/")


def _check_sha256(value: str) -> str:
    if not _SHA256_RE.match(value):
        raise ValueError(f"expected 64 lowercase hex digits (a sha256), got {value!r}")
    return value


def _check_resolution(value: str) -> str:
    if not _RESOLUTION_RE.match(value):
        raise ValueError(f"expected WIDTHxHEIGHT in pixels (like '1280x720'), got {value!r}")
    return value


ModelId = Annotated[str, AfterValidator(_check_id)]
RepoId = Annotated[str, AfterValidator(_check_repo)]
Revision = Annotated[str, AfterValidator(_check_revision)]
RelativePath = Annotated[str, AfterValidator(_check_relative_path)]
Glob = Annotated[str, AfterValidator(_check_glob)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
MirrorUrl = Annotated[str, AfterValidator(_check_mirror_url)]
Sha256 = Annotated[str, AfterValidator(_check_sha256)]
Resolution = Annotated[str, AfterValidator(_check_resolution)]
# Strict so that TOML's `true` or "24" never slip in as numbers (an integer is still a float).
PositiveGb = Annotated[StrictFloat, Field(gt=0, le=100_000)]


class Capabilities(BaseModel):
    """What a model takes in and puts out; all optional, empty means "not declared".

    ``inputs`` is what a job may give; ``required_inputs`` what every job must give
    (I2V needs an image, TI2V takes text, an image or both).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    inputs: frozenset[Input] = frozenset()
    required_inputs: frozenset[Input] = frozenset()
    outputs: frozenset[Output] = frozenset()
    resolutions: tuple[Resolution, ...] = ()
    frame_rate_fps: Annotated[StrictInt, Field(gt=0, le=1000)] | None = None

    @field_validator("required_inputs")
    @classmethod
    def _required_within_inputs(cls, value: frozenset[str], info: ValidationInfo) -> frozenset[str]:
        extra = value - info.data.get("inputs", value)
        if extra:
            raise ValueError(f"expected a subset of inputs, but {sorted(extra)} are not in inputs")
        return value

    def accepts(self, given: frozenset[str] | set[str]) -> bool:
        """Whether a job giving exactly these inputs fits this model."""
        return bool(given) and self.required_inputs <= given <= self.inputs


class UrlFile(BaseModel):
    """One plain-URL file of a ``source = "url"`` entry, pinned by size and sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: RelativePath
    url: HttpUrl
    size_bytes: Annotated[StrictInt, Field(gt=0, le=MAX_FILE_SIZE_BYTES)]
    sha256: Sha256


class ModelSpec(BaseModel):
    """One catalog entry: a model id, where its files live and what it can do.

    Field order matters: validators of later fields look at ``source`` and
    ``vram_min_gb`` through ``info.data``, so the error lands on the field to fix.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ModelId
    source: SourceKind = "hub"
    repo: RepoId
    revision: Revision
    display_name: str | None = None
    description: str | None = None
    include: tuple[Glob, ...] = ()
    exclude: tuple[Glob, ...] = ()
    endpoint: HttpUrl | None = None
    mirrors: tuple[MirrorUrl, ...] = ()
    """Team mirrors tried before the Hub for this model, ahead of MODELWARD_MIRRORS."""
    files: tuple[UrlFile, ...] = Field(default=(), validate_default=True)
    capabilities: Capabilities = Capabilities()
    quality_tier: QualityTier | None = None
    relative_speed: Annotated[StrictFloat, Field(gt=0, le=1000)] | None = None
    vram_min_gb: PositiveGb | None = None
    vram_recommended_gb: PositiveGb | None = None
    expected_size_bytes: Annotated[StrictInt, Field(ge=0)] | None = None

    @field_validator("include", "exclude")
    @classmethod
    def _globs_only_for_hub(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if value and info.data.get("source") == "url":
            raise ValueError("only for source = 'hub'; a 'url' entry lists its files instead")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint_only_for_hub(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("source") == "url":
            raise ValueError("only for source = 'hub'; a 'url' entry pins each file's url")
        return value.rstrip("/") if value is not None else None

    @field_validator("mirrors")
    @classmethod
    def _mirrors_only_for_hub(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if value and info.data.get("source") == "url":
            raise ValueError("only for source = 'hub'; a 'url' entry pins each file's url")
        return value

    @field_validator("files")
    @classmethod
    def _files_match_source(
        cls, value: tuple[UrlFile, ...], info: ValidationInfo
    ) -> tuple[UrlFile, ...]:
        source = info.data.get("source")
        if source == "hub" and value:
            raise ValueError("only for source = 'url'; a 'hub' entry gets its files from the Hub")
        if source == "url" and not value:
            raise ValueError("a source = 'url' entry needs at least one [[models.<id>.files]]")
        seen: set[str] = set()
        for file in value:
            if file.path in seen:
                raise ValueError(f"path {file.path!r} is listed twice")
            seen.add(file.path)
        return value

    @field_validator("vram_recommended_gb")
    @classmethod
    def _recommended_not_below_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        minimum = info.data.get("vram_min_gb")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(f"expected at least vram_min_gb ({minimum}), got {value}")
        return value

    def usable_for(self) -> list[str]:
        """What the model can be used for, in words: tasks, resolutions, GPU memory."""
        caps = self.capabilities
        uses: list[str] = []
        for output in sorted(caps.outputs):
            for given in ({"text"}, {"image"}, {"text", "image"}):
                if caps.accepts(given):
                    uses.append(f"{'+'.join(sorted(given, reverse=True))}-to-{output}")
        if caps.resolutions:
            uses.append(", ".join(caps.resolutions))
        if self.vram_min_gb is not None:
            recommended = self.vram_recommended_gb
            more = f" ({recommended:g} recommended)" if recommended else ""
            uses.append(f"GPU >= {self.vram_min_gb:g} GB{more}")
        return uses

    def selects(self, path: str) -> bool:
        """Whether the repo-relative ``path`` is part of this model by include/exclude.

        Patterns are matched with :func:`fnmatch.fnmatchcase` on the whole path, as
        ``huggingface_hub``'s ``allow_patterns`` are: ``*`` also crosses ``/``, and a
        pattern ending in ``/`` means everything under that folder.
        """
        if self.include and not _matches_any(path, self.include):
            return False
        return not _matches_any(path, self.exclude)


def _matches_any(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(path, p + "*" if p.endswith("/") else p) for p in patterns)
