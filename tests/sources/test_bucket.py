"""The mirror bucket against a real S3 server (SeaweedFS): layout, manifests, refs, uploads
continued from the parts an interrupted run left in the bucket."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelward.errors import ConfigError, MirrorError, MirrorObjectError
from modelward.sources.bucket import Manifest, ManifestFile, MirrorAddress, MirrorBucket
from modelward.sources.bucket.upload import upload_blob
from modelward.sources.files import RemoteFile
from tests.s3 import S3Server

MiB = 1024 * 1024
COMMIT = "a" * 40


def _bucket(s3_server: S3Server, name: str, prefix: str = "team/hf") -> MirrorBucket:
    return MirrorBucket(MirrorAddress(name, prefix), s3_server.client())


def test_addresses_parse_and_lay_out_keys() -> None:
    address = MirrorAddress.parse("s3://team-models/hf/")
    assert (address.bucket, address.prefix, str(address)) == (
        "team-models",
        "hf",
        "s3://team-models/hf",
    )
    sha = "b" * 64
    assert address.blob_key(sha) == f"hf/blobs/sha256/{sha}"
    assert address.blob_key("c" * 40) == f"hf/blobs/git/{'c' * 40}"
    assert address.blob_name_of(address.blob_key(sha)) == sha
    assert address.manifest_of(address.manifest_key("org/name", COMMIT)) == ("org/name", COMMIT)
    assert address.revision_of(address.ref_key("org/name", "v1/x"), "org/name") == "v1/x"
    assert MirrorAddress.parse("s3://bare").key("blobs") == "blobs"
    for bad in ("http://x/y", "s3://", "team/hf"):
        with pytest.raises(ConfigError):
            MirrorAddress.parse(bad)


def test_manifest_and_ref_round_trip(s3_server: S3Server, s3_bucket: str) -> None:
    bucket = _bucket(s3_server, s3_bucket)
    files = (
        ManifestFile(RemoteFile("config.json", 10, git_oid="d" * 40)),
        ManifestFile(RemoteFile("w/model.safetensors", 5, sha256="e" * 64)),
    )
    assert bucket.read_manifest("org/name", COMMIT) is None
    bucket.write_manifest(Manifest("org/name", COMMIT, files, published_by="gpu-1"))
    bucket.write_ref("org/name", "main", COMMIT)
    read = bucket.read_manifest("org/name", COMMIT)
    assert read is not None and read.files == files and read.published_by == "gpu-1"
    assert bucket.read_ref("org/name", "main") == COMMIT
    assert bucket.manifests() == [("org/name", COMMIT)]
    target = read.target("m", "main")
    assert [f.path for f in target.files] == ["config.json", "w/model.safetensors"]


def test_a_hostile_manifest_is_refused(s3_server: S3Server, s3_bucket: str) -> None:
    bucket = _bucket(s3_server, s3_bucket)
    key = bucket.address.manifest_key("org/name", COMMIT)
    bad = b'{"format": 1, "repo_id": "org/name", "commit": "' + COMMIT.encode()
    bad += b'", "files": [{"path": "../../etc/passwd", "size": 1, "sha256": "' + b"f" * 64 + b'"}]}'
    bucket.write_object(key, bad)
    with pytest.raises(MirrorObjectError, match="etc/passwd"):
        bucket.read_manifest("org/name", COMMIT)


def test_a_small_blob_is_one_put(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    bucket = _bucket(s3_server, s3_bucket)
    path = tmp_path / "blob"
    path.write_bytes(b"x" * 1000)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert bucket.blob_size(sha) is None
    seen: list[int] = []
    assert upload_blob(bucket, path, sha, on_progress=seen.append) == 1000
    assert bucket.blob_size(sha) == 1000 and sum(seen) == 1000
    assert list(bucket.blobs()) == [(sha, 1000)]


def test_an_interrupted_multipart_upload_sends_only_the_missing_parts(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    bucket = _bucket(s3_server, s3_bucket)
    data = os.urandom(13 * MiB)
    path = tmp_path / "blob"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    key = bucket.address.blob_key(sha)
    client = bucket.client
    # What a run killed after its first part leaves in the bucket.
    upload_id = client.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"]
    client.upload_part(
        Bucket=s3_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data[: 5 * MiB]
    )
    sent = upload_blob(bucket, path, sha, part_bytes=5 * MiB)
    assert sent == 8 * MiB  # parts 2 and 3 only
    body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_a_missing_bucket_and_bad_credentials_say_what_to_do(
    s3_server: S3Server, tmp_path: Path
) -> None:
    missing = _bucket(s3_server, "no-such-bucket-here")
    with pytest.raises(MirrorError) as raised:
        missing.write_ref("org/name", "main", COMMIT)
    assert "Create the bucket" in raised.value.hint
    wrong = MirrorBucket(MirrorAddress("x"), s3_server.client(aws_secret_access_key="wrong-secret"))
    with pytest.raises(MirrorError) as raised:
        wrong.write_ref("org/name", "main", COMMIT)
    assert "AWS_ACCESS_KEY_ID" in raised.value.hint
