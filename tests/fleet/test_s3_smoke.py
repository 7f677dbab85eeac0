"""The S3 server the fleet tests use (tests/s3.py) speaks the S3 API the mirror needs,
through boto3: buckets, objects, multipart uploads, listings, deletes, signatures."""

from __future__ import annotations

import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from tests.s3 import S3Server

MIB = 1024 * 1024
PART = 5 * MIB
"""S3's minimum size for every part but the last."""


def test_put_get_list_delete(s3_server: S3Server, s3_bucket: str) -> None:
    s3 = s3_server.client()
    assert s3_bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    body = b"one blob of weights\n" * 100
    put = s3.put_object(Bucket=s3_bucket, Key="hf/blobs/sha256/aa", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    s3.put_object(Bucket=s3_bucket, Key="hf/blobs/sha256/bb", Body=b"b")
    s3.put_object(Bucket=s3_bucket, Key="hf/manifests/m.json", Body=b"{}")
    s3.put_object(Bucket=s3_bucket, Key="other/cc", Body=b"c")

    got = s3.get_object(Bucket=s3_bucket, Key="hf/blobs/sha256/aa")
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body)
    ranged = s3.get_object(Bucket=s3_bucket, Key="hf/blobs/sha256/aa", Range="bytes=5-9")
    assert ranged["Body"].read() == body[5:10]

    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix="hf/blobs/")
    assert [o["Key"] for o in listed["Contents"]] == ["hf/blobs/sha256/aa", "hf/blobs/sha256/bb"]
    assert [o["Size"] for o in listed["Contents"]] == [len(body), 1]
    tops = s3.list_objects_v2(Bucket=s3_bucket, Prefix="hf/", Delimiter="/")
    assert [p["Prefix"] for p in tops["CommonPrefixes"]] == ["hf/blobs/", "hf/manifests/"]

    s3.delete_object(Bucket=s3_bucket, Key="hf/blobs/sha256/aa")
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=s3_bucket, Key="hf/blobs/sha256/aa")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    left = s3.list_objects_v2(Bucket=s3_bucket, Prefix="hf/blobs/")
    assert [o["Key"] for o in left["Contents"]] == ["hf/blobs/sha256/bb"]


def test_multipart_upload(s3_server: S3Server, s3_bucket: str) -> None:
    s3 = s3_server.client()
    parts = [os.urandom(PART) for _ in range(3)]
    key = "hf/blobs/sha256/" + hashlib.sha256(b"".join(parts)).hexdigest()
    upload = s3.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"]
    pending = s3.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in pending] == [(key, upload)]

    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=s3_bucket, Key=key, UploadId=upload, PartNumber=number, Body=data
        )
        assert reply["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        done.append({"PartNumber": number, "ETag": reply["ETag"]})
    # What a resumed upload asks the server: which parts it already has.
    listed = s3.list_parts(Bucket=s3_bucket, Key=key, UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART), (2, PART), (3, PART)]

    completed = s3.complete_multipart_upload(
        Bucket=s3_bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )
    # S3's multipart ETag: the md5 of the parts' binary md5s, a dash, the part count.
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert completed["ETag"] == f'"{expected}-3"'

    got = s3.get_object(Bucket=s3_bucket, Key=key)
    assert got["ETag"] == completed["ETag"]
    assert got["ContentLength"] == 3 * PART
    assert got["Body"].read() == b"".join(parts)
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_wrong_secret_is_refused(s3_server: S3Server, s3_bucket: str) -> None:
    for overrides in (
        {"aws_secret_access_key": "not-the-secret"},
        {"aws_access_key_id": "nobody"},
    ):
        intruder = s3_server.client(**overrides)
        for call in (
            intruder.list_buckets,
            lambda c=intruder: c.get_object(Bucket=s3_bucket, Key="anything"),
            lambda c=intruder: c.put_object(Bucket=s3_bucket, Key="x", Body=b"x"),
        ):
            with pytest.raises(ClientError) as refused:
                call()
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Contents" not in s3_server.client().list_objects_v2(Bucket=s3_bucket)


def test_missing_bucket_is_not_created(s3_server: S3Server) -> None:
    s3 = s3_server.client()
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket="no-such-bucket", Key="x", Body=b"x")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"
    assert "no-such-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_footprint(s3_server: S3Server, s3_bucket: str) -> None:
    """Starts in seconds, modest memory, and disk use that follows the data stored
    (volumes are not preallocated)."""
    before = s3_server.disk_bytes()
    s3_server.client().put_object(Bucket=s3_bucket, Key="five", Body=os.urandom(PART))
    grown = s3_server.disk_bytes() - before
    rss = s3_server.rss_bytes()
    print(
        f"\nSeaweedFS: started in {s3_server.started_in_s:.2f} s, RSS {rss / MIB:.0f} MiB, "
        f"disk {s3_server.disk_bytes() / MIB:.1f} MiB (+{grown / MIB:.1f} MiB for 5 MiB stored)"
    )
    assert s3_server.started_in_s < 20
    assert rss < 512 * MIB
    assert grown < PART + 2 * MIB
    assert s3_server.disk_bytes() < 256 * MIB
