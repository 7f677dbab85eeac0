"""What a person does when modelward cannot do it alone: the manual steps that get one
model once retries are spent (Requirement 1.4), and the setup instructions when no model is
on this machine at all (Requirement 4.2). Steps in words, each with its action code (the
surfaces add the route or the command), built from catalog and status data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from modelward.actions import Action, Step
from modelward.catalog import ModelSpec
from modelward.status import DetailedModelStatus
from modelward.units import format_size


def manual_download_steps(spec: ModelSpec, endpoint: str, cache: Path) -> tuple[Step, ...]:
    """How a person gets ``spec`` here when modelward's own attempts failed."""
    return (
        Step(
            f"check that this machine reaches {endpoint} (a proxy needs HTTPS_PROXY; another "
            "mirror is set with HF_ENDPOINT)"
        ),
        Step("a gated or private repository needs a token: HF_TOKEN or `hf auth login`"),
        Step(
            f"then download {spec.id}: it resumes from the bytes already here",
            Action.DOWNLOAD,
            spec.id,
        ),
        Step(
            f"or, on a machine with access: `hf download {spec.repo} --revision "
            f"{spec.revision} --cache-dir DIR`, copy DIR's models--* folder into {cache}, "
            f"and verify {spec.id} (every file is hashed before use)",
            Action.VERIFY,
            spec.id,
        ),
    )


def setup_steps(
    statuses: Mapping[str, DetailedModelStatus], endpoint: str, cache: Path
) -> tuple[Step, ...]:
    """How a person gets a first model when none is here (the smallest one first)."""
    smallest = min(statuses.values(), key=lambda s: s.size_bytes or 2**62)
    size = format_size(smallest.size_bytes)
    return (
        Step(
            f"pick a model: the smallest of the {len(statuses)} in the catalog is "
            f"{smallest.model_id} ({size})"
        ),
        Step(f"make room: the store is {cache} (--cache-dir or HF_HUB_CACHE moves it)"),
        Step(
            f"download {smallest.model_id} (pausable, resumable, verified)",
            Action.DOWNLOAD,
            smallest.model_id,
        ),
        Step(f"check the source is reachable: {endpoint} (HF_ENDPOINT, HTTPS_PROXY)"),
        Step("to see the whole loop without internet, run the demo (a local hub)", Action.DEMO),
    )


def version_steps(
    model_id: str, wanted: str | None, latest: str | None, current: str | None, path: str | None
) -> tuple[Step, ...]:
    """How the app gets the version it expects (``wanted``), or keeps the one here."""
    steps: list[Step] = []
    if wanted and wanted == latest and wanted != current:
        beside = "beside the served version (unchanged files are not fetched again)"
        steps.append(Step(f"update {model_id}: {wanted} arrives {beside}", Action.UPDATE, model_id))
    elif wanted and wanted != current:
        how = f"set the catalog entry's revision of {model_id} to {wanted}, then update it"
        steps.append(Step(f"switch: {how}", Action.UPDATE, model_id))
    if current:
        steps.append(Step(f"or keep {current[:12]}: load the model from {path}"))
    return tuple(steps)
