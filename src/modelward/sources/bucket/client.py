"""The S3 client of the team mirrors: boto3, configured the standard way.

Credentials, region and profiles come from boto3's own chain (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``~/.aws/config``, instance roles). The endpoint
of an S3-compatible store (MinIO, Ceph RGW, R2, SeaweedFS) is ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL``, read into ``Settings.s3_endpoint_url``; such stores get path-style
addressing, since their host names rarely resolve per bucket. boto3 is imported on first
use: a pull without mirrors never pays for it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_clients: dict[str | None, S3Client] = {}
_lock = threading.Lock()

# Stores that are not AWS reject or ignore the checksum headers boto3 sends by default
# since 1.36; the content is checked against the Hub's sha256 anyway.
_CHECKSUMS: Final = "when_required"


def s3_client(endpoint_url: str | None = None) -> S3Client:
    """The process's S3 client for ``endpoint_url`` (None: AWS), made once (boto3 clients
    are thread-safe; making one costs some 50 ms)."""
    with _lock:
        client = _clients.get(endpoint_url)
        if client is None:
            client = _clients[endpoint_url] = _make_client(endpoint_url)
        return client


def _make_client(endpoint_url: str | None) -> S3Client:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    config = Config(
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
        request_checksum_calculation=_CHECKSUMS,
        response_checksum_validation=_CHECKSUMS,
    )
    # A store of its own needs some region to sign with; AWS needs the real one.
    region = session.region_name or ("us-east-1" if endpoint_url else None)
    return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
