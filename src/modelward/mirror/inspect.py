"""Looking at a team mirror: what it holds (``list_published``), whether its objects are
what its manifests say (``verify_mirror``), and what nothing needs any more
(``plan_prune``, then ``execute_prune``). All calls block: run them in a thread."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

from modelward.errors import MirrorError, MirrorObjectError
from modelward.sources.bucket import Manifest, MirrorBucket
from modelward.sources.bucket.s3errors import s3_errors
from modelward.sources.files import RemoteFile
from modelward.store.hashing import ContentHasher

READ_BYTES = 8 * 1024 * 1024
PARALLEL_READS = 4
UPLOAD_MAX_AGE_S = 86400.0
"""An unfinished multipart upload older than this is abandoned: prune aborts it."""
BLOB_GRACE_S = 3600.0
"""An unreferenced blob younger than this is kept: a push writes its manifest last."""


@dataclass(frozen=True, slots=True)
class PublishedCommit:
    """One manifest in a mirror: a repo commit, the refs naming it and its files."""

    repo_id: str
    commit: str
    refs: tuple[str, ...]
    files: int
    size_bytes: int
    published_by: str
    published_at: float


@dataclass(frozen=True, slots=True)
class MirrorListing:
    """What a mirror holds; manifests that could not be read are named with why."""

    mirror: str
    commits: tuple[PublishedCommit, ...]
    unreadable: tuple[str, ...] = ()


def read_manifests(bucket: MirrorBucket) -> tuple[list[Manifest], list[str]]:
    """Every manifest of the mirror, and a sentence for each one that could not be read."""
    found: list[Manifest] = []
    bad: list[str] = []
    for repo_id, commit in bucket.manifests():
        try:
            manifest = bucket.read_manifest(repo_id, commit)
        except MirrorObjectError as exc:
            bad.append(exc.message)
            continue
        if manifest is not None:
            found.append(manifest)
    return found, bad


def refs_by_commit(bucket: MirrorBucket) -> dict[tuple[str, str], list[str]]:
    """(repo id, commit) → the revisions published at it."""
    head = bucket.address.key("refs") + "/"
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, _size in bucket.keys(head):
        repo_id = key[len(head) :].rpartition("/")[0]
        revision = bucket.address.revision_of(key, repo_id) if repo_id else None
        if not revision:
            continue
        try:
            commit = bucket.read_ref(repo_id, revision)
        except MirrorObjectError:
            continue  # a ref that names no commit names nothing to list
        if commit is not None:
            found[(repo_id, commit)].append(revision)
    return found


def list_published(bucket: MirrorBucket) -> MirrorListing:
    """Every published repo commit with its refs, file count and size."""
    manifests, bad = read_manifests(bucket)
    refs = refs_by_commit(bucket)
    commits = tuple(
        PublishedCommit(
            repo_id=m.repo_id,
            commit=m.commit,
            refs=tuple(sorted(refs.get((m.repo_id, m.commit), ()))),
            files=len(m.files),
            size_bytes=sum(f.file.size_bytes for f in m.files),
            published_by=m.published_by,
            published_at=m.published_at,
        )
        for m in manifests
    )
    return MirrorListing(str(bucket), commits, tuple(bad))


class ProblemKind(StrEnum):
    """What is wrong with an object of a mirror."""

    MISSING = "missing"
    TRUNCATED = "truncated"
    SIZE_MISMATCH = "size-mismatch"
    CHECKSUM_MISMATCH = "checksum-mismatch"
    BAD_MANIFEST = "bad-manifest"


@dataclass(frozen=True, slots=True)
class MirrorProblem:
    """One bad object, and the manifests (``repo@commit``) that name it."""

    kind: ProblemKind
    key: str
    detail: str
    blob_name: str | None = None
    manifests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What checking a mirror's objects against its manifests found."""

    mirror: str
    full: bool
    manifests: int
    blobs: int
    bytes_read: int
    problems: tuple[MirrorProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


@dataclass(slots=True)
class _Wanted:
    file: RemoteFile
    manifests: list[str]


def _wanted_blobs(manifests: list[Manifest]) -> dict[str, _Wanted]:
    """Blob name → its file (size and checksum) and the manifests naming it."""
    wanted: dict[str, _Wanted] = {}
    for m in manifests:
        label = f"{m.repo_id}@{m.commit}"
        for entry in m.files:
            slot = wanted.setdefault(entry.file.blob_name, _Wanted(entry.file, []))
            if label not in slot.manifests:
                slot.manifests.append(label)
    return wanted


def verify_mirror(
    bucket: MirrorBucket, *, full: bool = False, on_read: Callable[[int], None] | None = None
) -> VerifyReport:
    """Check that every blob a manifest names is in the mirror at its size; ``full``: also
    read each blob once and compare its sha256 (or git blob id). ``on_read`` hears of bytes
    read, from worker threads."""
    manifests, bad = read_manifests(bucket)
    problems = [MirrorProblem(ProblemKind.BAD_MANIFEST, "", text) for text in bad]
    wanted = _wanted_blobs(manifests)
    sizes = dict(bucket.blobs())
    intact: list[_Wanted] = []
    for name, slot in sorted(wanted.items()):
        problem = _size_problem(bucket, name, slot, sizes.get(name))
        if problem is not None:
            problems.append(problem)
        else:
            intact.append(slot)
    read = 0
    if full:
        with ThreadPoolExecutor(PARALLEL_READS, thread_name_prefix="mirror-verify") as pool:
            for found in pool.map(lambda s: _hash_problem(bucket, s, on_read), intact):
                if found is not None:
                    problems.append(found)
        read = sum(s.file.size_bytes for s in intact)
    return VerifyReport(str(bucket), full, len(manifests), len(wanted), read, tuple(problems))


def _size_problem(
    bucket: MirrorBucket, name: str, slot: _Wanted, size: int | None
) -> MirrorProblem | None:
    key = bucket.address.blob_key(name)
    expected = slot.file.size_bytes
    labels = tuple(slot.manifests)
    if size is None:
        return MirrorProblem(ProblemKind.MISSING, key, "not in the mirror", name, labels)
    if size == expected:
        return None
    kind = ProblemKind.TRUNCATED if size < expected else ProblemKind.SIZE_MISMATCH
    detail = f"{size} bytes where the manifest says {expected}"
    return MirrorProblem(kind, key, detail, name, labels)


def _hash_problem(
    bucket: MirrorBucket, slot: _Wanted, on_read: Callable[[int], None] | None
) -> MirrorProblem | None:
    file = slot.file
    key = bucket.address.blob_key(file.blob_name)
    hasher = ContentHasher(file)
    for chunk in _read_chunks(bucket, key):
        hasher.update(chunk)
        if on_read is not None:
            on_read(len(chunk))
    if hasher.matches():
        return None
    detail = f"its content hashes to {hasher.hexdigest()}"
    labels = tuple(slot.manifests)
    return MirrorProblem(ProblemKind.CHECKSUM_MISMATCH, key, detail, file.blob_name, labels)


def _read_chunks(bucket: MirrorBucket, key: str) -> Iterator[bytes]:
    with s3_errors(f"reading {key} from {bucket}"):
        answer = bucket.client.get_object(Bucket=bucket.address.bucket, Key=key)
        yield from answer["Body"].iter_chunks(READ_BYTES)


def remove_bad(bucket: MirrorBucket, report: VerifyReport) -> list[str]:
    """Delete the blobs ``report`` found bad (present but wrong), so the next push of a
    model naming them uploads them again; returns their keys."""
    keys = [
        p.key
        for p in report.problems
        if p.kind not in (ProblemKind.MISSING, ProblemKind.BAD_MANIFEST) and p.key
    ]
    bucket.delete_keys(keys)
    return keys


@dataclass(frozen=True, slots=True)
class UnfinishedUpload:
    """A multipart upload that was started and never completed nor aborted."""

    key: str
    upload_id: str
    initiated: float
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What pruning a mirror removes: blobs no manifest names, abandoned uploads."""

    mirror: str
    blobs: tuple[tuple[str, int], ...]
    uploads: tuple[UnfinishedUpload, ...]
    kept_recent: int
    """Unreferenced blobs left because they are younger than the grace period."""

    @property
    def size_bytes(self) -> int:
        """Bytes the plan frees."""
        return sum(size for _, size in self.blobs) + sum(u.size_bytes for u in self.uploads)


def plan_prune(
    bucket: MirrorBucket, *, grace_s: float = BLOB_GRACE_S, now: float | None = None
) -> PrunePlan:
    """Blobs no manifest names (older than ``grace_s``) and uploads abandoned for a day;
    refuses while a manifest cannot be read (its blobs would look unreferenced)."""
    now = time.time() if now is None else now
    manifests, bad = read_manifests(bucket)
    if bad:
        raise MirrorObjectError(
            f"cannot prune {bucket}: {bad[0]}",
            hint="Remove or republish the unreadable manifest first; until then nothing "
            "can tell which blobs it needs.",
        )
    wanted = _wanted_blobs(manifests)
    blobs: list[tuple[str, int]] = []
    recent = 0
    for key, size, modified in _listed(bucket, bucket.address.blobs_prefix):
        name = bucket.address.blob_name_of(key)
        if name is None or name in wanted:
            continue
        if now - modified < grace_s:
            recent += 1
        else:
            blobs.append((name, size))
    uploads = list(_uploads(bucket, now - UPLOAD_MAX_AGE_S))
    return PrunePlan(str(bucket), tuple(sorted(blobs)), tuple(uploads), recent)


def execute_prune(bucket: MirrorBucket, plan: PrunePlan) -> None:
    """Delete what ``plan`` names."""
    bucket.delete_keys([bucket.address.blob_key(name) for name, _ in plan.blobs])
    for upload in plan.uploads:
        with s3_errors(f"aborting the upload of {upload.key} in {bucket}"):
            bucket.client.abort_multipart_upload(
                Bucket=bucket.address.bucket, Key=upload.key, UploadId=upload.upload_id
            )


def _listed(bucket: MirrorBucket, prefix: str) -> Iterator[tuple[str, int, float]]:
    """(key, size, last modified) of every object under ``prefix``."""
    paginator = bucket.client.get_paginator("list_objects_v2")
    with s3_errors(f"listing {prefix} in {bucket}"):
        for page in paginator.paginate(Bucket=bucket.address.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], int(item["Size"]), _epoch(item["LastModified"])


def _uploads(bucket: MirrorBucket, older_than: float) -> Iterator[UnfinishedUpload]:
    """Every multipart upload under the mirror's prefix unfinished since before
    ``older_than`` (epoch seconds), with its parts' size."""
    prefix = f"{bucket.address.prefix}/" if bucket.address.prefix else ""
    paginator = bucket.client.get_paginator("list_multipart_uploads")
    with s3_errors(f"listing unfinished uploads in {bucket}"):
        pages = list(paginator.paginate(Bucket=bucket.address.bucket, Prefix=prefix))
    for page in pages:
        for item in page.get("Uploads", []):
            key, upload_id = str(item.get("Key", "")), str(item.get("UploadId", ""))
            initiated = _epoch(item.get("Initiated"))
            if key and upload_id and initiated <= older_than:
                size = _parts_size(bucket, key, upload_id)
                yield UnfinishedUpload(key, upload_id, initiated, size)


def _parts_size(bucket: MirrorBucket, key: str, upload_id: str) -> int:
    paginator = bucket.client.get_paginator("list_parts")
    try:
        with s3_errors(f"listing the parts of {key} in {bucket}"):
            return sum(
                int(part.get("Size", 0))
                for page in paginator.paginate(
                    Bucket=bucket.address.bucket, Key=key, UploadId=upload_id
                )
                for part in page.get("Parts", [])
            )
    except MirrorError:
        return 0  # aborted meanwhile, or the store lists no parts: nothing to count


def _epoch(value: object) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(str(value)) if value else 0.0
