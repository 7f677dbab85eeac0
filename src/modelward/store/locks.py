"""The per-blob lock file huggingface_hub also takes, so the two never write one blob at once."""

from __future__ import annotations

import filelock

from modelward.store.layout import RepoLayout


def blob_file_lock(layout: RepoLayout, blob_name: str) -> filelock.FileLock:
    """The lock guarding writes of one blob (not thread-bound: we acquire and release on the
    event loop, and work under it may run in worker threads)."""
    path = layout.lock_path(blob_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(path), thread_local=False)
