"""The node fetching a blob for the team is killed (SIGKILL) mid-blob: its lease lapses,
another node's service takes the blob over from the hub and publishes it, and every node
ends with the model verified. Real services (``modelward pull`` starts them), a real
PostgreSQL, a real S3 server and the local hub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelward.db import Database
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.transfer.leases import BlobLeases, LeaseView
from tests.cli.conftest import store_env
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, sha256_of
from tests.pg import PostgresServer
from tests.s3 import S3Server


def _node_env(
    root: Path, name: str, hub: DevHub, s3: S3Server, mirror: str, database: str
) -> dict[str, str]:
    env = store_env(root / name, hub.url) | s3.env()
    env.update(
        MODELWARD_NODE_NAME=name,
        MODELWARD_MIRRORS=mirror,
        MODELWARD_DATABASE_URL=database,
        MODELWARD_LEASE_TTL="2",
        MODELWARD_SEGMENT_BYTES=str(128 * 1024),
        MODELWARD_CONNECTIONS_PER_FILE="2",
    )
    return env


def _pull(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelward", "pull", TI2V],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for_lease(leases: BlobLeases, blob: str, holder: str, share: float) -> LeaseView:
    deadline = time.monotonic() + 60
    while True:
        lease = leases.peek(blob)
        if lease is not None and lease.holder == holder and lease.share >= share:
            return lease
        assert time.monotonic() < deadline, f"{holder} never led {blob}: {lease}"
        time.sleep(0.05)


def test_a_killed_leader_is_replaced_and_every_node_finishes(
    tmp_path: Path,
    threaded_hub: DevHub,
    s3_server: S3Server,
    s3_bucket: str,
    postgres: PostgresServer,
) -> None:
    database = postgres.create_database()
    mirror = f"s3://{s3_bucket}/hf"
    manifest = threaded_hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    threaded_hub.set_faults(FaultPlan([Fault.rate(40_000, path_glob="*" + big.path)]))
    envs = {n: _node_env(tmp_path, n, threaded_hub, s3_server, mirror, database) for n in "ab"}
    db = Database(database)
    leases = BlobLeases(db, "observer", 2.0)
    try:
        first = _pull(envs["a"])
        _wait_for_lease(leases, big.etag, "a", 0.1)
        second = _pull(envs["b"])
        time.sleep(1.0)  # b is waiting for a by now
        service = json.loads((tmp_path / "a" / "home" / "service.json").read_text())["pid"]
        os.kill(service, signal.SIGKILL)
        first.communicate(timeout=30)
        taken = _wait_for_lease(leases, big.etag, "b", 0.0)
        assert taken.state in ("fetching", "publishing", "published")
        threaded_hub.clear_faults()  # b fetches the rest at full speed
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 0, out.decode()
        assert leases.peek(big.etag) is not None
        assert leases.peek(big.etag).state == "published"  # type: ignore[union-attr]
        rerun = subprocess.run(
            [sys.executable, "-m", "modelward", "pull", TI2V],
            env=envs["a"],
            capture_output=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stdout.decode() + rerun.stderr.decode()
    finally:
        db.close()
        for env in envs.values():
            subprocess.run(
                [sys.executable, "-m", "modelward", "service", "stop"],
                env=env,
                capture_output=True,
                timeout=30,
            )
    for name in "ab":
        snapshot = tmp_path / name / "cache" / f"models--{TI2V_REPO.replace('/', '--')}"
        path = snapshot / "snapshots" / manifest.commit / big.path
        assert sha256_of(path) == big.content_sha256, name
        assert_store_invariants(tmp_path / name / "cache")
