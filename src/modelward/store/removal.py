"""Removing a model's files from the store without touching what other models share.

Order matters for a crash: snapshot links go first and their folders are synced (the
model stops looking present), then the ref if its snapshot is left empty, then blobs no
remaining link points at, with their records. A crash in between leaves unreferenced blobs
(space, found again by the next removal), never a link to a missing blob that a loader
would trip over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Set
from pathlib import Path

from modelward.errors import StoreError
from modelward.sources import Target
from modelward.store.layout import RepoLayout
from modelward.store.records import DamagedRecord, VerifiedRecord
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


def removable_bytes(layout: RepoLayout, target: Target, keep_paths: Set[str]) -> int:
    """Bytes :func:`remove_target` would free (blobs and partials of files not kept)."""
    kept = {f.blob_name for f in target.files if f.path in keep_paths}
    total = 0
    for name in {f.blob_name for f in target.files} - kept:
        for path in (layout.blob_path(name), layout.incomplete_path(name)):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
    return total


def remove_target(layout: RepoLayout, target: Target, keep_paths: Set[str] = frozenset()) -> int:
    """Delete ``target``'s snapshot links, partials and the blobs nothing else links to,
    leaving the files in ``keep_paths`` (other models use them); returns the bytes freed."""
    try:
        return _remove(layout, target, keep_paths)
    except OSError as exc:
        raise StoreError(
            f"cannot remove files of {target.repo_id} under {layout.repo_dir}: "
            f"{exc.strerror or exc}",
            hint="Check the store's permissions (and that its disk is writable), then retry; "
            "what was removed so far is consistent.",
        ) from exc


def _remove(layout: RepoLayout, target: Target, keep_paths: Set[str]) -> int:
    gone = [f for f in target.files if f.path not in keep_paths]
    folders: set[Path] = set()
    for file in gone:
        link = layout.snapshot_path(target.commit, file.path)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
            folders.add(link.parent)
    for folder in folders:
        if folder.is_dir():
            fsync_dir(folder)
    snapshot = layout.snapshot_dir(target.commit)
    _prune_empty_dirs(snapshot)
    if not snapshot.exists():
        refs = layout.repo_dir / "refs"
        for ref in refs.glob("*") if refs.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                if ref.read_text(encoding="utf-8").strip() == target.commit:
                    ref.unlink()
        if snapshot.parent.is_dir():
            fsync_dir(snapshot.parent)
    still_linked = referenced_blobs(layout)
    still_linked |= {f.blob_name for f in target.files if f.path in keep_paths}
    verified, damaged = VerifiedRecord(layout), DamagedRecord(layout)
    freed = 0
    for name in {f.blob_name for f in gone}:
        partial = layout.incomplete_path(name)
        with contextlib.suppress(FileNotFoundError):
            freed += partial.stat().st_size
        remove_partial(layout, name)
        if name in still_linked:
            continue
        blob = layout.blob_path(name)
        with contextlib.suppress(FileNotFoundError):
            size = blob.stat().st_size
            blob.unlink()
            freed += size
        verified.forget(name)
        damaged.forget(name)
    if layout.blobs_dir.is_dir():
        fsync_dir(layout.blobs_dir)
    return freed


def _prune_empty_dirs(top: Path) -> None:
    if not top.is_dir():
        return
    for root, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            Path(root).rmdir()  # only empty folders go: a foreign file keeps its folder
