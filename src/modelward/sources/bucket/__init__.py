"""Team mirrors in S3-compatible buckets, as a source: addresses, the S3 client, manifests,
reading and uploading objects."""

from modelward.sources.bucket.address import MirrorAddress
from modelward.sources.bucket.bucket import URL_LIFETIME_S, MirrorBucket
from modelward.sources.bucket.client import s3_client
from modelward.sources.bucket.manifest import BlockDigests, Manifest, ManifestFile
from modelward.sources.bucket.upload import upload_blob

__all__ = [
    "URL_LIFETIME_S",
    "BlockDigests",
    "Manifest",
    "ManifestFile",
    "MirrorAddress",
    "MirrorBucket",
    "s3_client",
    "upload_blob",
]
