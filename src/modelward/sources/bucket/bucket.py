"""One team mirror: its blobs, manifests and refs in an S3-compatible bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelward.errors import HostileMetadataError, MirrorError, MirrorObjectError
from modelward.sources.bucket.address import MirrorAddress
from modelward.sources.bucket.client import s3_client
from modelward.sources.bucket.manifest import MAX_MANIFEST_BYTES, Manifest
from modelward.sources.bucket.s3errors import is_missing, s3_errors
from modelward.sources.files import validate_commit

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

URL_LIFETIME_S = 3600
"""How long a presigned blob URL is valid (one is made for each segment)."""


class MirrorBucket:
    """Reads and writes one mirror's objects (blocking calls: run them in a thread)."""

    def __init__(
        self,
        address: MirrorAddress,
        client: S3Client | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.address = address
        self._client = client
        self._endpoint_url = endpoint_url

    @classmethod
    def at(cls, url: str, endpoint_url: str | None = None) -> MirrorBucket:
        """The mirror named ``s3://BUCKET/PREFIX``, through the process's client (made on
        first use, in the thread that uses it: importing boto3 takes some 0.3 s)."""
        return cls(MirrorAddress.parse(url), endpoint_url=endpoint_url)

    @property
    def client(self) -> S3Client:
        """The S3 client this mirror is read and written with."""
        if self._client is None:
            self._client = s3_client(self._endpoint_url)
        return self._client

    def __str__(self) -> str:
        return str(self.address)

    def blob_size(self, blob_name: str) -> int | None:
        """The size of the mirror's copy of ``blob_name``; None when it has none."""
        return self.object_size(self.address.blob_key(blob_name))

    def object_size(self, key: str) -> int | None:
        """The size of the object at ``key``; None when there is none."""
        from botocore.exceptions import ClientError

        with s3_errors(f"looking up {key} in {self}"):
            try:
                answer = self.client.head_object(Bucket=self.address.bucket, Key=key)
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
        return int(answer["ContentLength"])

    def blob_url(self, blob_name: str) -> str:
        """A presigned GET URL of the blob (computed here, no request made)."""
        with s3_errors(f"signing a URL of {blob_name} in {self}"):
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.address.bucket, "Key": self.address.blob_key(blob_name)},
                ExpiresIn=URL_LIFETIME_S,
            )

    def read_object(self, key: str, limit: int = MAX_MANIFEST_BYTES) -> bytes | None:
        """The bytes of a small object (None when missing; refused past ``limit``)."""
        from botocore.exceptions import ClientError

        with s3_errors(f"reading {key} from {self}"):
            try:
                answer = self.client.get_object(Bucket=self.address.bucket, Key=key)
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
            with answer["Body"] as body:
                if answer["ContentLength"] > limit:
                    raise MirrorObjectError(f"{key} in {self} is larger than {limit} bytes")
                return body.read(limit + 1)[:limit]

    def write_object(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        """Write a small object whole."""
        with s3_errors(f"writing {key} to {self}"):
            self.client.put_object(
                Bucket=self.address.bucket, Key=key, Body=data, ContentType=content_type
            )

    def read_manifest(self, repo_id: str, commit: str) -> Manifest | None:
        """The manifest of ``repo_id`` at ``commit``, or None when it was not published."""
        key = self.address.manifest_key(repo_id, commit)
        raw = self.read_object(key)
        if raw is None:
            return None
        manifest = Manifest.from_json(raw, f"{self}/{key}")
        if manifest.commit != commit or manifest.repo_id != repo_id:
            raise MirrorObjectError(f"the manifest {self}/{key} names another commit or repo")
        return manifest

    def write_manifest(self, manifest: Manifest) -> None:
        """Publish a manifest (its blobs must be in the bucket already)."""
        self.write_object(
            self.address.manifest_key(manifest.repo_id, manifest.commit), manifest.to_json()
        )

    def read_ref(self, repo_id: str, revision: str) -> str | None:
        """The commit ``revision`` of ``repo_id`` was last published at (None: never)."""
        raw = self.read_object(self.address.ref_key(repo_id, revision), limit=1024)
        if raw is None:
            return None
        try:
            return validate_commit(raw.decode("ascii", "replace").strip())
        except HostileMetadataError as exc:
            raise MirrorObjectError(f"the ref {repo_id}@{revision} in {self}: {exc}") from None

    def write_ref(self, repo_id: str, revision: str, commit: str) -> None:
        """Record that ``revision`` of ``repo_id`` was published at ``commit``."""
        key = self.address.ref_key(repo_id, revision)
        self.write_object(key, f"{commit}\n".encode(), content_type="text/plain")

    def keys(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Every (key, size) under ``prefix``."""
        paginator = self.client.get_paginator("list_objects_v2")
        with s3_errors(f"listing {prefix} in {self}"):
            for page in paginator.paginate(Bucket=self.address.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], int(item["Size"])

    def manifests(self) -> list[tuple[str, str]]:
        """(repo id, commit) of every published manifest."""
        found = (self.address.manifest_of(k) for k, _ in self.keys(self.address.manifests_prefix))
        return sorted(m for m in found if m is not None)

    def blobs(self) -> Iterator[tuple[str, int]]:
        """(blob name, size) of every blob in the mirror."""
        for key, size in self.keys(self.address.blobs_prefix):
            name = self.address.blob_name_of(key)
            if name is not None:
                yield name, size

    def delete_keys(self, keys: list[str]) -> None:
        """Delete objects (1000 per request, as S3 allows)."""
        for start in range(0, len(keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": k} for k in keys[start : start + 1000]]
            with s3_errors(f"deleting {len(batch)} objects from {self}"):
                answer = self.client.delete_objects(
                    Bucket=self.address.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            # Quiet mode still lists the keys it could not delete, without raising.
            failed = answer.get("Errors", [])
            if failed:
                first = failed[0]
                raise MirrorError(
                    f"{len(failed)} objects could not be deleted from {self}: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )
