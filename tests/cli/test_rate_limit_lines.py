"""The CLI's words for a rate-limit wait: the status line, and the pull's bar counting down."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from modelward.api.schemas import DownloadProgressPublic, ModelStatusPublic
from modelward.cli.progress import PullBars, _EtaOrWait
from modelward.cli.status_lines import progress_line
from modelward.transfer import DownloadStatus
from tests.conftest import TI2V

NOTE = "rate-limited by the hub, resuming in 12 s"


def _progress(resume_at: float) -> DownloadProgressPublic:
    return DownloadProgressPublic(
        model_id=TI2V,
        status=DownloadStatus.DOWNLOADING,
        progress_percent=10.0,
        downloaded_mb=1.0,
        total_mb=10.0,
        speed_mbps=0.0,
        eta_seconds=None,
        retry_count=0,
        max_retries=3,
        error_message=None,
        error_code=None,
        can_pause=True,
        can_resume=False,
        can_cancel=True,
        downloaded_bytes=1_000_000,
        total_bytes=10_000_000,
        speed_bytes_per_s=0,
        files={},
        waiting=NOTE,
        resume_at=datetime.fromtimestamp(resume_at, UTC),
    )


def test_the_pull_bar_counts_the_wait_down_between_frames() -> None:
    bars = PullBars()
    bars.show(_progress(time.time() + 12.5))
    [task] = bars.progress.tasks
    column = _EtaOrWait()
    assert str(column.render(task)) == "rate-limited by the hub, resuming in 13 s"
    task.fields["resume_at"] = time.time() + 4.2  # as seconds pass, with no frame
    assert str(column.render(task)) == "rate-limited by the hub, resuming in 5 s"
    task.fields["resume_at"] = time.time() - 1  # over: the time left shows again
    assert str(column.render(task)) == ""


def test_the_status_line_says_the_wait() -> None:
    fields: dict[str, Any] = dict.fromkeys(ModelStatusPublic.model_fields)
    fields |= {"model_id": TI2V, "download_progress": 10.0, "is_available": False}
    status = ModelStatusPublic.model_construct(**fields | {"missing_files": [], "waiting": NOTE})
    line = progress_line(status)
    assert line == f"{TI2V}: 10.0% verified; {NOTE}"
