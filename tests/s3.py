"""A real S3 server for the tests: SeaweedFS's S3 gateway (``weed server -s3``), run by
``modelward.devhub.s3`` (the demo's too), one server per test session in a temporary
directory, every port on loopback.

``s3_server`` is the server (``endpoint_url``, ``access_key``, ``secret_key``, ``region``,
``client()``, ``new_bucket()``, ``env()``); ``s3_bucket`` a fresh, empty bucket for one test.
Buckets are never shared between tests: each test makes its own with ``new_bucket()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelward.devhub.s3 import S3Server, running_s3_server, weed_binary

__all__ = ["S3Server", "running_s3_server", "s3_bucket", "s3_server", "weed_binary"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS) for the whole session."""
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket on ``s3_server`` for this test."""
    return s3_server.new_bucket()
