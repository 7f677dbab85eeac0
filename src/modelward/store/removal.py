"""Removing a model's files from the store without touching what other models share.

Order matters for a crash: snapshot links go first (the model stops looking present),
then the ref if its snapshot is left empty, then blobs no remaining link points at. A
crash in between leaves unreferenced blobs (space, found again by the next removal), never
a link to a missing blob that a loader would trip over.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from modelward.sources import Target
from modelward.store.layout import RepoLayout
from modelward.store.writer import fsync_dir, remove_partial


def referenced_blobs(layout: RepoLayout) -> set[str]:
    """Blob names some snapshot link of the repository points at."""
    snapshots = layout.repo_dir / "snapshots"
    names: set[str] = set()
    if not snapshots.is_dir():
        return names
    for root, _dirs, files in os.walk(snapshots):
        for name in files:
            link = Path(root) / name
            if link.is_symlink():
                names.add(Path(os.readlink(link)).name)
    return names


def remove_target(layout: RepoLayout, target: Target) -> int:
    """Delete ``target``'s snapshot links, partials and the blobs nothing else links to;
    returns the bytes freed."""
    for file in target.files:
        with contextlib.suppress(FileNotFoundError):
            layout.snapshot_path(target.commit, file.path).unlink()
    snapshot = layout.snapshot_dir(target.commit)
    _prune_empty_dirs(snapshot)
    if not snapshot.exists():
        for ref in (layout.repo_dir / "refs").glob("*") if layout.repo_dir.is_dir() else ():
            with contextlib.suppress(OSError):
                if ref.read_text(encoding="utf-8").strip() == target.commit:
                    ref.unlink()
    still_linked = referenced_blobs(layout)
    freed = 0
    for file in target.files:
        name = file.blob_name
        partial = layout.incomplete_path(name)
        with contextlib.suppress(OSError):
            freed += partial.stat().st_size
        remove_partial(layout, name)
        if name in still_linked:
            continue
        blob = layout.blob_path(name)
        with contextlib.suppress(FileNotFoundError):
            size = blob.stat().st_size
            blob.unlink()
            freed += size
    if layout.blobs_dir.is_dir():
        fsync_dir(layout.blobs_dir)
    return freed


def _prune_empty_dirs(top: Path) -> None:
    if not top.is_dir():
        return
    for root, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            Path(root).rmdir()  # only empty folders go: a foreign file keeps its folder
