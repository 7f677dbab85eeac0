"""Publishing a verified model to a team mirror.

Only bytes this node has verified leave it: each blob's stat must match its verification
record now (the health quick check's test) and again once it is uploaded. The mirror is
asked which blobs it lacks (none, or a copy of another size, which is replaced); only
those are uploaded, multipart when large, continuing what an interrupted run left in the
bucket. The manifest is written after every blob it names, and the ref last, so a reader
that finds a manifest finds its blobs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import MirrorError, TransferCancelledError
from modelward.sources.bucket import (
    BlockDigests,
    Manifest,
    ManifestFile,
    MirrorBucket,
    upload_blob,
)
from modelward.sources.files import RemoteFile, Target
from modelward.store import ModelManager, RepoLayout
from modelward.store.records import BlobStat, VerifiedRecord, load_block_table
from modelward.units import format_size

PublishProgress = Callable[[int, int], None]
"""Called with (bytes in the bucket so far, bytes to upload), from upload threads."""

PART_BYTES_ENV = "MODELWARD_MIRROR_PART_BYTES"
"""A hidden knob for tests and odd stores: the multipart part size in bytes (the CLI and
the service read it at their entry point; default: the upload layer's choice)."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What publishing one model to a mirror did."""

    mirror: str
    model_id: str
    repo_id: str
    commit: str
    files: int
    blobs_uploaded: int
    bytes_sent: int
    """Bytes uploaded by this run."""
    bytes_skipped: int
    """Bytes of blobs the mirror already held."""
    bytes_resumed: int
    """Bytes of parts an earlier, interrupted run had left in the bucket."""


def verified_blob(layout: RepoLayout, file: RemoteFile) -> Path:
    """The path of ``file``'s blob when it is verified now (its stat matches the record);
    MirrorError otherwise."""
    path = layout.blob_path(file.blob_name)
    try:
        stat = BlobStat.of(path)
    except OSError:
        stat = None
    if stat is None or not VerifiedRecord(layout).is_verified(file.blob_name, stat):
        raise MirrorError(
            f"{file.path} of {layout.repo_id} is not verified on this node",
            hint="Only verified files are published: check the model (verify or repair "
            "it) and pull what is missing, then publish it again.",
        )
    return path


def publish_blob(
    bucket: MirrorBucket,
    layout: RepoLayout,
    file: RemoteFile,
    *,
    on_progress: Callable[[int], None] | None = None,
    part_bytes: int | None = None,
) -> int:
    """Put ``file``'s verified blob into the mirror unless it holds a copy of the right size
    already; return the bytes sent (blocking). ``on_progress`` hears of bytes newly in the
    bucket."""
    path = verified_blob(layout, file)
    if bucket.blob_size(file.blob_name) == file.size_bytes:
        return 0
    return _upload(bucket, layout, file, path, on_progress, part_bytes)


def _upload(
    bucket: MirrorBucket,
    layout: RepoLayout,
    file: RemoteFile,
    path: Path,
    on_progress: Callable[[int], None] | None,
    part_bytes: int | None,
    stop: threading.Event | None = None,
) -> int:
    before = BlobStat.of(path)
    sent = upload_blob(
        bucket, path, file.blob_name, on_progress=on_progress, part_bytes=part_bytes, stop=stop
    )
    if BlobStat.of(path) != before or not VerifiedRecord(layout).is_verified(file.blob_name):
        # What went up may be neither the old nor the new bytes: take it down again.
        bucket.delete_keys([bucket.address.blob_key(file.blob_name)])
        raise MirrorError(
            f"{file.path} of {layout.repo_id} changed while it was uploaded",
            hint="Something wrote to the store meanwhile; check the model, then publish it again.",
            retryable=True,
        )
    return sent


def served_target(manager: ModelManager, model_id: str) -> Target:
    """The files of the version of ``model_id`` this node serves (MirrorError: none is
    complete here)."""
    spec = manager.spec(model_id)
    if spec.source != "hub":
        raise MirrorError(
            f"{model_id} comes from pinned URLs, not a Hub repo",
            hint="Team mirrors hold Hub repos only; its URLs serve every node already.",
        )
    commit = manager.local_commit(model_id)
    target = manager.target_at(model_id, commit) if commit is not None else None
    if target is None or not target.files:
        raise MirrorError(
            f"{model_id} has no complete version on this node",
            hint="Pull the model first (it must finish verified), then publish it.",
        )
    return target


class _Counter:
    """Bytes in the bucket so far, added to from several upload threads."""

    def __init__(self, total: int, on_progress: PublishProgress | None) -> None:
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._on_progress = on_progress

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            done = self.done
        if self._on_progress is not None:
            self._on_progress(done, self.total)


def publish_model(
    bucket: MirrorBucket,
    manager: ModelManager,
    model_id: str,
    *,
    publisher: str,
    on_progress: PublishProgress | None = None,
    part_bytes: int | None = None,
    cancel: threading.Event | None = None,
) -> PublishResult:
    """Publish the version of ``model_id`` this node serves: the blobs the mirror lacks,
    then the manifest, then the ref (blocking; refuses unless every file is verified now).
    ``cancel``: checked before each blob and each part of a large one."""
    target = served_target(manager, model_id)
    layout = manager.repo_layout(target.repo_id)
    blobs = {f.blob_name: f for f in target.files}
    paths = {name: verified_blob(layout, f) for name, f in blobs.items()}  # refuse first
    lacking = [f for f in blobs.values() if bucket.blob_size(f.blob_name) != f.size_bytes]
    to_send = sum(f.size_bytes for f in lacking)
    counter = _Counter(to_send, on_progress)
    counter.add(0)
    sent = 0
    for file in lacking:
        if cancel is not None and cancel.is_set():
            raise TransferCancelledError(
                f"publishing {model_id} to {bucket} was stopped",
                hint="Publish it again: what is in the bucket is not sent twice.",
            )
        sent += _upload(
            bucket, layout, file, paths[file.blob_name], counter.add, part_bytes, cancel
        )
    manifest = _manifest(bucket, layout, target, publisher)
    if manifest is not None:
        bucket.write_manifest(manifest)
    named = target.revision != target.commit
    if named and bucket.read_ref(target.repo_id, target.revision) != target.commit:
        bucket.write_ref(target.repo_id, target.revision, target.commit)
    return PublishResult(
        mirror=str(bucket),
        model_id=model_id,
        repo_id=target.repo_id,
        commit=target.commit,
        files=len(target.files),
        blobs_uploaded=len(lacking),
        bytes_sent=sent,
        bytes_skipped=sum(f.size_bytes for f in blobs.values()) - to_send,
        bytes_resumed=to_send - sent,
    )


def _manifest(
    bucket: MirrorBucket, layout: RepoLayout, target: Target, publisher: str
) -> Manifest | None:
    """The commit's manifest: these files, plus those another catalog entry of the same
    commit published before (its other globs), which stay listed; None when the mirror's
    says the same already (it keeps naming its first publisher)."""
    ours = {f.path: _entry(layout, f) for f in target.files}
    try:
        known = bucket.read_manifest(target.repo_id, target.commit)
    except MirrorError:
        known = None  # unreadable: ours replaces it
    kept = {e.file.path: e for e in (known.files if known else ()) if e.file.path not in ours}
    files = tuple(sorted({**kept, **ours}.values(), key=lambda e: e.file.path))
    listing = tuple(RemoteFile(f.path, f.size_bytes, f.sha256, f.git_oid) for f in target.listing)
    listing = listing or (known.listing if known else ())
    if known is not None and known.files == files and known.listing == listing:
        return None
    return Manifest(target.repo_id, target.commit, files, published_by=publisher, listing=listing)


def _entry(layout: RepoLayout, file: RemoteFile) -> ManifestFile:
    bare = RemoteFile(file.path, file.size_bytes, file.sha256, file.git_oid)
    table = load_block_table(layout, file.blob_name)
    blocks = BlockDigests(table.block_bytes, table.algorithm, table.hashes) if table else None
    return ManifestFile(bare, blocks)


def describe(result: PublishResult) -> str:
    """One line saying what a publish did, sizes in decimal units."""
    resumed = (
        f", {format_size(result.bytes_resumed)} from an earlier run" if result.bytes_resumed else ""
    )
    return (
        f"{result.model_id} ({result.repo_id}@{result.commit[:12]}) in {result.mirror}: "
        f"{result.files} files, {result.blobs_uploaded} blobs uploaded, "
        f"{format_size(result.bytes_sent)} sent, "
        f"{format_size(result.bytes_skipped)} already there{resumed}"
    )
