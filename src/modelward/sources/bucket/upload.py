"""Uploading a blob to a mirror: one PUT when small, else a multipart upload that a later
run continues after a kill -9.

S3 keeps an unfinished multipart upload, and the parts it has, until it is completed or
aborted; so the state of an interrupted upload is in the bucket, not on this machine: the
next upload of the same key lists the parts already there (number, size) and sends only
the others. Parts are fixed-size slices of the file, so a part uploaded by an earlier run
is the same bytes as long as the file is the same verified blob.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from modelward.errors import MirrorError, TransferCancelledError
from modelward.sources.bucket.bucket import MirrorBucket
from modelward.sources.bucket.s3errors import s3_errors

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

logger = logging.getLogger(__name__)

PART_BYTES = 16 * 1024 * 1024
MAX_PARTS = 10_000  # S3's limit
PARALLEL_PARTS = 4
# Parts in memory at once in this process, whatever the number of uploads: a node leading
# many blobs for its team would otherwise hold four parts per blob.
_IN_FLIGHT = threading.BoundedSemaphore(PARALLEL_PARTS)

UploadProgress = Callable[[int], None]
"""Called with the bytes newly in the bucket."""


def part_bytes_for(size: int) -> int:
    """The part size for a blob of ``size`` bytes: 16 MiB, larger past 160 GB (S3 allows
    10,000 parts)."""
    part = PART_BYTES
    while size > part * MAX_PARTS:
        part *= 2
    return part


def upload_blob(
    bucket: MirrorBucket,
    path: Path,
    blob_name: str,
    *,
    on_progress: UploadProgress | None = None,
    part_bytes: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Put the verified blob at ``path`` into the mirror as ``blob_name``; return the bytes
    sent (those of parts an earlier run uploaded are not sent again). ``part_bytes``: the
    part size (default: ``part_bytes_for``; S3 wants at least 5 MiB). ``stop``: set, no
    further part is sent (``TransferCancelledError``); the parts sent stay for the next run."""
    size = path.stat().st_size
    key = bucket.address.blob_key(blob_name)
    part = part_bytes or part_bytes_for(size)
    if size <= part:
        with s3_errors(f"uploading {key} to {bucket}"), path.open("rb") as fh:
            bucket.client.put_object(Bucket=bucket.address.bucket, Key=key, Body=fh)
        _report(on_progress, size)
        return size
    return _multipart(bucket, path, key, size, part, on_progress, stop)


def _report(on_progress: UploadProgress | None, count: int) -> None:
    if on_progress is not None:
        on_progress(count)


def _multipart(
    bucket: MirrorBucket,
    path: Path,
    key: str,
    size: int,
    part: int,
    on_progress: UploadProgress | None,
    stop: threading.Event | None,
) -> int:
    upload_id = _open_upload(bucket, key)
    done = _uploaded_parts(bucket, key, upload_id, size, part)
    _report(on_progress, sum(_part_range(n, size, part)[1] for n in done))
    if done:
        logger.info("continuing the upload of %s: %d parts already in %s", key, len(done), bucket)
    todo = [n for n in range(1, _part_count(size, part) + 1) if n not in done]

    def send(number: int) -> tuple[int, str]:
        if stop is not None and stop.is_set():
            raise TransferCancelledError(
                f"the upload of {key} to {bucket} was stopped",
                hint="Publish again: the parts already sent are not sent twice.",
            )
        offset, length = _part_range(number, size, part)
        etag = _send_part(bucket, path, key, upload_id, number, offset, length)
        _report(on_progress, length)
        return number, etag

    with ThreadPoolExecutor(PARALLEL_PARTS, thread_name_prefix="mirror-upload") as pool:
        for number, etag in pool.map(send, todo):
            done[number] = etag
    parts: list[CompletedPartTypeDef] = [{"PartNumber": n, "ETag": done[n]} for n in sorted(done)]
    with s3_errors(f"completing the upload of {key} to {bucket}"):
        bucket.client.complete_multipart_upload(
            Bucket=bucket.address.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
    return sum(_part_range(n, size, part)[1] for n in todo)


def _part_count(size: int, part: int) -> int:
    return max(1, -(-size // part))


def _part_range(number: int, size: int, part: int) -> tuple[int, int]:
    offset = (number - 1) * part
    return offset, min(part, size - offset)


def _open_upload(bucket: MirrorBucket, key: str) -> str:
    """The id of the unfinished upload of ``key`` an earlier run left, else a new one."""
    with s3_errors(f"listing unfinished uploads of {key} in {bucket}"):
        listed = bucket.client.list_multipart_uploads(Bucket=bucket.address.bucket, Prefix=key)
    ours = [u for u in listed.get("Uploads", []) if u.get("Key") == key]
    if ours:
        # The newest: an older one may be a run whose parts were of another size.
        ours.sort(key=lambda u: u["Initiated"])
        return str(ours[-1]["UploadId"])
    with s3_errors(f"starting the upload of {key} to {bucket}"):
        created = bucket.client.create_multipart_upload(Bucket=bucket.address.bucket, Key=key)
    return created["UploadId"]


def _uploaded_parts(
    bucket: MirrorBucket, key: str, upload_id: str, size: int, part: int
) -> dict[int, str]:
    """Parts of the upload already in the bucket whose size is the one planned for them."""
    done: dict[int, str] = {}
    paginator = bucket.client.get_paginator("list_parts")
    with s3_errors(f"listing the uploaded parts of {key} in {bucket}"):
        for page in paginator.paginate(Bucket=bucket.address.bucket, Key=key, UploadId=upload_id):
            for listed in page.get("Parts", []):
                number = int(listed["PartNumber"])
                if number <= _part_count(size, part) and (
                    int(listed["Size"]) == _part_range(number, size, part)[1]
                ):
                    done[number] = str(listed["ETag"])
    return done


def _send_part(
    bucket: MirrorBucket,
    path: Path,
    key: str,
    upload_id: str,
    number: int,
    offset: int,
    length: int,
) -> str:
    with _IN_FLIGHT:
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.pread(fd, length, offset)
        finally:
            os.close(fd)
        if len(data) != length:
            raise MirrorError(f"{path} changed while it was uploaded (part {number} is short)")
        with s3_errors(f"uploading part {number} of {key} to {bucket}"):
            answer = bucket.client.upload_part(
                Bucket=bucket.address.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
            )
    return answer["ETag"]
