"""One integrity figure: intact bytes over checked bytes, the same from the status, a
check and the health report. Missing files do not lower it (that is completeness)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from modelward.status import model_status
from tests.conftest import TI2V
from tests.health.conftest import Model


def _remove(model: Model, path: str) -> None:
    """Delete a file's bytes from the store: its blob and its snapshot link."""
    Path(os.path.realpath(model.snapshot / path)).unlink()
    (model.snapshot / path).unlink()


async def _three_figures(runtime: Runtime) -> tuple[float | None, float | None, float | None]:
    """The status's, a full check's and the report's integrity of the model."""
    check = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
    status = await model_status(runtime.downloader, TI2V, health=runtime.health)
    report = await runtime.health.get_health_report()
    [entry] = [m for m in report.models if m.model_id == TI2V]
    return status.integrity_score, check.integrity_score, entry.integrity_score


async def test_a_half_downloaded_healthy_model_is_fully_intact(
    model: Model, runtime: Runtime
) -> None:
    sizes = {p: s or 0 for p, s in model.sizes.items()}
    total = sum(sizes.values())
    biggest = max(sizes, key=lambda p: sizes[p])
    assert sizes[biggest] > total // 3  # a large share of the model is gone
    _remove(model, biggest)

    assert await _three_figures(runtime) == (1.0, 1.0, 1.0)
    status = await model_status(runtime.downloader, TI2V)
    assert status.missing_files == [biggest]
    assert status.download_progress == pytest.approx(100.0 * (total - sizes[biggest]) / total)
    check = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
    assert check.files_checked == len(sizes) - 1


async def test_damage_counts_against_the_checked_bytes_only(model: Model, runtime: Runtime) -> None:
    sizes = {p: s or 0 for p, s in model.sizes.items()}
    biggest, damaged = sorted(sizes, key=lambda p: sizes[p], reverse=True)[:2]
    _remove(model, biggest)
    blob = model.blob(damaged)
    with blob.open("r+b") as f:
        f.seek(sizes[damaged] // 2)
        byte = f.read(1)
        f.seek(sizes[damaged] // 2)
        f.write(bytes([byte[0] ^ 0xFF]))

    checked = sum(sizes.values()) - sizes[biggest]
    expected = round((checked - sizes[damaged]) / checked, 4)
    assert await _three_figures(runtime) == (expected, expected, expected)


async def test_nothing_on_disk_means_nothing_checked(model: Model, runtime: Runtime) -> None:
    for path in model.sizes:
        _remove(model, path)
    assert await _three_figures(runtime) == (None, None, None)
