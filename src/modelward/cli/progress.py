"""Rich progress bars drawn from the service's ``download.progress`` events.

The bars show the service's own figures (bytes on disk, total, speed), so a pull's bar and
``modelward status`` never disagree; the CLI measures nothing itself.
"""

from __future__ import annotations

import time

from rich.progress import BarColumn, DownloadColumn, ProgressColumn, Task, TaskID, TextColumn
from rich.text import Text

from modelward.api.schemas import DownloadProgressPublic
from modelward.cli.output import progress_bar
from modelward.units import format_speed


class PullBars:
    """One bar per model and one per file while it is transferring; use as a context."""

    def __init__(self) -> None:
        self.progress = progress_bar(  # on stderr, and only when it is a terminal
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[speed]}", markup=False),
            _EtaOrWait(),
        )
        self._models: dict[str, TaskID] = {}
        self._files: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> PullBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def show(self, p: DownloadProgressPublic) -> None:
        """Redraw the model's bars from one progress event."""
        speed = format_speed(p.speed_bytes_per_s) if p.speed_bytes_per_s else ""
        eta = f"{p.eta_seconds:.0f} s left" if p.eta_seconds else ""
        if p.waiting and p.resume_at is None:
            eta = p.waiting  # another node fetches it for the team
        task = self._models.get(p.model_id)
        if task is None:
            task = self.progress.add_task(p.model_id, total=None, speed="", eta="")
            self._models[p.model_id] = task
        total = p.total_bytes or None
        resume_at = p.resume_at.timestamp() if p.waiting and p.resume_at else None
        self.progress.update(
            task,
            total=total,
            completed=p.downloaded_bytes,
            speed=speed,
            eta=eta,
            resume_at=resume_at,
        )
        for path, f in p.files.items():
            self._show_file(p.model_id, path, f.done_bytes, f.total_bytes, f.verified)

    def _show_file(self, model_id: str, path: str, done: int, total: int, verified: bool) -> None:
        key = (model_id, path)
        task = self._files.get(key)
        if verified or done >= total:
            if task is not None:
                self.progress.remove_task(self._files.pop(key))
            return
        if task is None and done > 0:
            task = self.progress.add_task(f"  {path}", total=total, speed="", eta="")
            self._files[key] = task
        if task is not None:
            self.progress.update(task, completed=done)

    def finish(self, model_id: str, complete_bytes: int | None = None) -> None:
        """The model's download ended: drop its file bars; a complete model's bar is full
        (the end can arrive before the last coalesced progress event)."""
        for key in [k for k in self._files if k[0] == model_id]:
            self.progress.remove_task(self._files.pop(key))
        if complete_bytes is None:
            return
        task = self._models.get(model_id)
        if task is None:
            task = self.progress.add_task(model_id, total=None, speed="", eta="")
            self._models[model_id] = task
        total = complete_bytes or None
        self.progress.update(
            task, total=total, completed=complete_bytes, speed="", eta="", resume_at=None
        )


class _EtaOrWait(ProgressColumn):
    """The time left, or, while the hub rate-limits the download, its wait counting down
    between the service's frames (none arrive while nothing moves)."""

    def render(self, task: Task) -> Text:
        """The cell for ``task``."""
        resume_at = task.fields.get("resume_at")
        if resume_at is not None and resume_at > time.time():
            # Imported on the first wait: a CLI that draws no bars never loads transfer.
            from modelward.transfer.waits import waiting_note

            return Text(waiting_note(resume_at - time.time()), style="yellow")
        return Text(str(task.fields.get("eta", "")))
