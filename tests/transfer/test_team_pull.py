"""One download for the team: nodes sharing a PostgreSQL database and a mirror on a real S3
server fetch each blob from the hub once; the others wait for its leader to publish it
("waiting for gpu-1 to publish: 41%") and take it from the mirror."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modelward.db import Database
from modelward.devhub import DevHub
from modelward.events import Event, EventType
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources.bucket import MirrorAddress
from modelward.transfer.leases import BlobLeases
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, hub_file_bytes, make_settings
from tests.pg import PostgresServer
from tests.s3 import S3Server


@pytest.fixture
def mirror_url(s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty team mirror; boto3 in this process is pointed at its server."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return str(MirrorAddress(s3_bucket, "hf"))


def _node(tmp_path: Path, name: str, hub: DevHub, mirror: str, database: str) -> Settings:
    return make_settings(
        tmp_path / name,
        hub.url,
        node_name=name,
        mirrors=(mirror,),
        s3_endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        database_url=database,
        lease_ttl_s=5.0,
    )


async def _pull(settings: Settings, notes: list[str]) -> None:
    async with Runtime(settings) as runtime:

        def seen(event: Event) -> None:
            if event.type == EventType.DOWNLOAD_WAITING and event.data.get("note"):
                notes.append(str(event.data["note"]))

        runtime.bus.subscribe(seen)
        result = await runtime.downloader.download_with_retry(TI2V)
        assert result.success, f"{settings.node_name}: {result.error_message}"
        assert_store_invariants(settings.cache_dir)


async def test_three_nodes_fetch_each_blob_from_the_hub_once(
    tmp_path: Path, hub: DevHub, mirror_url: str, postgres: PostgresServer
) -> None:
    database = postgres.create_database()
    nodes = [_node(tmp_path, f"gpu-{n}", hub, mirror_url, database) for n in (1, 2, 3)]
    notes: list[str] = []
    await asyncio.gather(*(_pull(node, notes) for node in nodes))
    manifest = hub.manifest(TI2V_REPO)
    assert hub_file_bytes(hub) == sum(f.size for f in manifest.files)  # each blob once
    assert notes and all(n.startswith("waiting for gpu-") and n.endswith("%") for n in notes)
    db = Database(database)
    try:
        leases = BlobLeases(db, "gpu-1", 5.0)
        holders = [leases.peek(f.etag) for f in manifest.files]
    finally:
        db.close()
    assert all(h is not None and h.state == "published" for h in holders)


async def test_a_lease_left_mid_upload_by_a_dead_node_is_taken_over(
    tmp_path: Path, hub: DevHub, mirror_url: str, postgres: PostgresServer
) -> None:
    database = postgres.create_database()
    manifest = hub.manifest(TI2V_REPO)
    big = max(manifest.files, key=lambda f: f.size)
    db = Database(database, node="gpu-9")
    try:
        dead = BlobLeases(db, "gpu-9", 0.1)
        claimed = dead.claim(big.etag, mirror_url, big.size)
        assert claimed.holder == "gpu-9"
        dead.renew(big.etag, big.size // 3, "publishing")  # then killed, mid-upload
        await asyncio.sleep(0.3)  # its lease lapses
        notes: list[str] = []
        await _pull(_node(tmp_path, "gpu-1", hub, mirror_url, database), notes)
        lease = dead.peek(big.etag)
    finally:
        db.close()
    assert lease is not None and lease.holder == "gpu-1" and lease.state == "published"
