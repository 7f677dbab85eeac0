"""Rich progress bars fed by download events; the downloader knows nothing of them."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from modelward.events import Event, EventType


class PullProgress:
    """One bar per model (total) and one per file while it is transferring."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._totals: dict[str, TaskID] = {}
        self._files: dict[tuple[str, str], TaskID] = {}
        self._done: dict[tuple[str, str], int] = {}
        self._sizes: dict[tuple[str, str], int] = {}

    def __call__(self, event: Event) -> None:
        """Bus subscriber: update the bars from one event."""
        model_id = event.model_id or ""
        data = event.data
        if event.type == EventType.DOWNLOAD_STARTED:
            for f in data["files"]:
                self._sizes[(model_id, str(f["path"]))] = int(f["size_bytes"])
            total = sum(int(f["size_bytes"]) for f in data["files"])
            if model_id not in self._totals:
                self._totals[model_id] = self.progress.add_task(f"{model_id}", total=total)
        elif event.type == EventType.FILE_BYTES:
            self._on_bytes(model_id, str(data["path"]), int(data["done_bytes"]))
        elif event.type == EventType.FILE_VERIFIED:
            key = (model_id, str(data["path"]))
            self._on_bytes(model_id, key[1], self._sizes.get(key, 0))
            task = self._files.pop(key, None)
            if task is not None:
                self.progress.remove_task(task)

    def _on_bytes(self, model_id: str, path: str, done: int) -> None:
        key = (model_id, path)
        previous = self._done.get(key, 0)
        self._done[key] = done
        if done > previous and key not in self._files and done < self._sizes.get(key, 0):
            self._files[key] = self.progress.add_task(f"  {path}", total=self._sizes.get(key))
        if key in self._files:
            self.progress.update(self._files[key], completed=done)
        if model_id in self._totals:
            self.progress.advance(self._totals[model_id], done - previous)
