"""What a person does when modelward cannot do it alone: the manual steps that get one
model once retries are spent (Requirement 1.4), and the setup instructions when no model is
on this machine at all (Requirement 4.2). Pure text builders over catalog and status data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from modelward.catalog import ModelSpec
from modelward.status import DetailedModelStatus
from modelward.units import format_size


def manual_download_steps(spec: ModelSpec, endpoint: str, cache: Path) -> tuple[str, ...]:
    """How a person gets ``spec`` here when modelward's own attempts failed."""
    return (
        f"check that this machine reaches {endpoint} (a proxy needs HTTPS_PROXY; another "
        "mirror is set with HF_ENDPOINT)",
        "a gated or private repository needs a token: HF_TOKEN or `hf auth login`",
        f"then `modelward pull {spec.id}`: it resumes from the bytes already here",
        f"or, on a machine with access: `hf download {spec.repo} --revision {spec.revision} "
        f"--cache-dir DIR`, copy DIR's models--* folder into {cache}, and run "
        f"`modelward verify {spec.id}` (every file is hashed before use)",
    )


def setup_steps(
    statuses: Mapping[str, DetailedModelStatus], endpoint: str, cache: Path
) -> tuple[str, ...]:
    """How a person gets a first model when none is here (the smallest one first)."""
    smallest = min(statuses.values(), key=lambda s: s.size_bytes or 2**62)
    return (
        f"pick a model: `modelward status` lists them; the smallest is {smallest.model_id} "
        f"({format_size(smallest.size_bytes)})",
        f"make room: the store is {cache} (--cache-dir or HF_HUB_CACHE moves it)",
        f"fetch it: `modelward pull {smallest.model_id}` (pausable, resumable, verified)",
        f"check the source is reachable: {endpoint} (HF_ENDPOINT, HTTPS_PROXY)",
        "to see the whole loop without internet: `modelward demo` (local hub)",
    )
