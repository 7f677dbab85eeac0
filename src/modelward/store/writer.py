"""Promotion: the only code that puts files where users and loaders will read them.

A blob is renamed into place only after its checksum matched, and a snapshot link is made
only to a blob already in place; a crash between the steps leaves a verified blob with no
link, which the next run links without fetching anything.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from modelward.errors import CorruptEntryError
from modelward.sources.files import RemoteFile
from modelward.store.layout import RepoLayout
from modelward.store.records import remove_partial_records


def fsync_file(path: Path) -> None:
    """Flush a file's data to disk so a rename after it cannot expose lost bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries, so a rename in it survives a power cut."""
    fsync_file(path)  # an O_RDONLY descriptor of a directory can be fsynced on Linux


def promote_blob(layout: RepoLayout, file: RemoteFile) -> Path:
    """Move a verified ``.incomplete`` file to its blob path (atomic rename)."""
    partial = layout.incomplete_path(file.blob_name)
    blob = layout.blob_path(file.blob_name)
    fsync_file(partial)
    os.replace(partial, blob)
    with contextlib.suppress(OSError):
        os.chmod(blob, 0o644)  # same mode huggingface_hub leaves; mkstemp-like modes surprise users
    return blob


def link_snapshot(layout: RepoLayout, commit: str, file: RemoteFile) -> Path:
    """Point ``snapshots/{commit}/{path}`` at the file's blob (atomic replace of the link)."""
    blob = layout.blob_path(file.blob_name)
    if not blob.is_file():
        raise CorruptEntryError(f"cannot link {file.path}: blob {file.blob_name} is missing")
    link = layout.snapshot_path(commit, file.path)
    link.parent.mkdir(parents=True, exist_ok=True)
    target = layout.link_target(file.path, file.blob_name)
    if link.is_symlink() and os.readlink(link) == target:
        return link
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(8)}.link")
    os.symlink(target, tmp)
    os.replace(tmp, link)
    return link


def write_ref(layout: RepoLayout, revision: str, commit: str) -> None:
    """Point a revision at a commit, atomically; a ref never names a missing snapshot."""
    if revision == commit:
        return  # a pinned commit needs no ref, as in huggingface_hub
    if not layout.snapshot_dir(commit).is_dir():
        raise CorruptEntryError(f"refusing to point {revision} at missing snapshot {commit}")
    ref = layout.ref_path(revision)
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(f".{ref.name}.{secrets.token_hex(8)}.tmp")
    tmp.write_text(commit, encoding="utf-8")
    fsync_file(tmp)  # after a power cut the ref is the old one or the new one, never empty
    os.replace(tmp, ref)
    fsync_dir(ref.parent)


def snapshot_link_ok(layout: RepoLayout, commit: str, file: RemoteFile) -> bool:
    """True when the file's snapshot path is the link to its blob."""
    link = layout.snapshot_path(commit, file.path)
    try:
        return os.readlink(link) == layout.link_target(file.path, file.blob_name)
    except OSError:
        return False


def remove_partial(layout: RepoLayout, blob_name: str) -> None:
    """Delete a blob's partial file and its resume record."""
    layout.incomplete_path(blob_name).unlink(missing_ok=True)
    remove_partial_records(layout, blob_name)


def read_ref(layout: RepoLayout, revision: str) -> str | None:
    """Return the commit a revision points at locally, if any."""
    try:
        commit = layout.ref_path(revision).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit or None
