"""What the mirror tests share: the real S3 server's credentials in this process's
environment, a mirror address in a fresh bucket, and a store holding a pulled model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources.bucket import MirrorAddress, MirrorBucket
from tests.conftest import TI2V, make_settings
from tests.s3 import S3Server

PREFIX = "team/hf"


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The standard AWS variables pointing boto3 in this process at the test server."""
    env = s3_server.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def mirror_url(s3_bucket: str) -> str:
    """A team mirror under a prefix of this test's own bucket."""
    return f"s3://{s3_bucket}/{PREFIX}"


@pytest.fixture
def bucket(s3_server: S3Server, mirror_url: str) -> MirrorBucket:
    """The mirror, read and written with the test server's own client."""
    return MirrorBucket(MirrorAddress.parse(mirror_url), s3_server.client())


def mirror_settings(tmp_path: Path, hub: DevHub, s3_server: S3Server, **extra: object) -> Settings:
    """Settings for a store under ``tmp_path`` pulling from ``hub``, with the S3 endpoint."""
    return make_settings(tmp_path, hub.url, s3_endpoint_url=s3_server.endpoint_url, **extra)


@pytest.fixture
async def pulled(
    tmp_path: Path, hub: DevHub, s3_server: S3Server, s3_env: dict[str, str]
) -> AsyncIterator[Runtime]:
    """A runtime whose store holds ti2v-5b, pulled verified from the local hub."""
    async with Runtime(mirror_settings(tmp_path, hub, s3_server)) as rt:
        assert (await rt.downloader.download_with_retry(TI2V)).success
        yield rt
