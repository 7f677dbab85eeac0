"""One run of the fleet benchmark: N processes started at once, waited for together, and
what they cost (Hub egress, time until all are ready, CPU, peak disk, database load).

``modelward``: N nodes, each its own ``MODELWARD_HOME``/``HF_HUB_CACHE`` and node name,
sharing one PostgreSQL database and one mirror bucket; ``modelward pull`` per node (each
starts its own service, stopped after). ``hf``: N independent ``snapshot_download``s.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config import MODEL_ID
from bench.fleet_measure import (
    DiskPeak,
    LeaseTimeline,
    PgStats,
    Xacts,
    allocated_bytes,
    postmaster_pid,
    rate,
    tree_cpu_s,
)
from bench.hubproc import Hub
from bench.procs import Registry, proc_cpu_s, stop_pid

SETTLE_S = 12.0
"""After the pulls: let the services' 1 s 'model on its way' beats stop and idle backends
flush their statistics (up to 10 s late) before the idle window starts."""


@dataclass
class Rig:
    """The servers every run shares and how to start the clients."""

    registry: Registry
    hub: Hub
    s3: Any  # tests.s3.S3Server
    pg: Any  # tests.pg.PostgresServer
    workdir: Path
    env: dict[str, str]
    python: str
    modelward: str
    timeout_s: float
    idle_s: float
    log_sql: bool = False
    """Have PostgreSQL log every statement of the fleet's databases (what a node asks)."""

    @property
    def pgstats(self) -> PgStats:
        """The server's statistics reader."""
        return PgStats(self.pg.port, "modelward")

    def server_cpu(self) -> dict[str, float]:
        """CPU so far of the hub, SeaweedFS and PostgreSQL (each a whole process tree)."""
        return {
            "hub": tree_cpu_s(self.hub.proc.pid),
            "weed": tree_cpu_s(self.s3.process.pid),
            "pg": tree_cpu_s(postmaster_pid(self.pg.data)),
        }


@dataclass
class NodeResult:
    """One client process of a run."""

    name: str
    returncode: int | None
    ready_s: float
    cpu_s: float
    """The process, its reaped children and (modelward) the service it started."""


@dataclass
class FleetRun:
    """How one run went."""

    n: int
    method: str
    model_bytes: int
    egress: int = 0
    ready_s: float = 0.0
    nodes: list[NodeResult] = field(default_factory=list)
    server_cpu: dict[str, float] = field(default_factory=dict)
    peak_disk: int = 0
    pull_xacts_per_node_s: float | None = None
    idle_xacts_per_node_s: float | None = None
    lease_rows: int = 0
    leaders: dict[str, int] = field(default_factory=dict)
    """Blobs each node fetched from the Hub for the team (from ``blob_leases``)."""
    lease_states: dict[str, int] = field(default_factory=dict)
    hub_done_s: float | None = None
    """When the last blob was fetched from the Hub (seen publishing), from the lease rows."""
    mirror_done_s: float | None = None
    """When the last blob was published to the mirror."""
    db_connections: int = 0
    """The most connections the nodes held to the database at once (sampled each second)."""
    label: str = ""
    load: float = 0.0
    """The machine's 1-minute load average as the run ended (other work skews times)."""

    @property
    def ok(self) -> bool:
        """Every process exited 0."""
        return bool(self.nodes) and all(n.returncode == 0 for n in self.nodes)

    @property
    def client_cpu_s(self) -> float:
        """CPU of the clients (and their services)."""
        return sum(n.cpu_s for n in self.nodes)

    @property
    def cpu_s(self) -> float:
        """Clients plus SeaweedFS and PostgreSQL (what the method costs besides the Hub)."""
        return self.client_cpu_s + self.server_cpu.get("weed", 0.0) + self.server_cpu.get("pg", 0.0)


def _wait_all(
    procs: Sequence[Any], started: float, timeout_s: float
) -> list[tuple[int | None, float, float]]:
    """Wait for every process (``wait4``: exit time and CPU of each); SIGKILL all after
    ``timeout_s``. Returns ``(returncode, seconds since started, cpu_s)`` per process."""
    out: list[tuple[int | None, float, float]] = [(None, 0.0, 0.0)] * len(procs)

    def waiter(i: int) -> None:
        _, status, usage = os.wait4(procs[i].pid, 0)
        procs[i].returncode = os.waitstatus_to_exitcode(status)
        out[i] = (procs[i].returncode, time.monotonic() - started, usage.ru_utime + usage.ru_stime)

    threads = [threading.Thread(target=waiter, args=(i,), daemon=True) for i in range(len(procs))]
    for t in threads:
        t.start()
    deadline = started + timeout_s
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
        for t in threads:
            t.join(30)
    return out


def node_env(rig: Rig, home: Path, name: str, mirror: str, database_url: str) -> dict[str, str]:
    """One node's environment: its own store, the team's mirror and database."""
    return {
        **rig.env,
        **rig.s3.env(),
        "HF_ENDPOINT": rig.hub.url,
        "HF_HUB_CACHE": str(home / "cache"),
        "MODELWARD_HOME": str(home / "home"),
        "MODELWARD_NODE_NAME": name,
        "MODELWARD_MIRRORS": mirror,
        "MODELWARD_DATABASE_URL": database_url,
        # The benchmark stops the services itself, after the idle window.
        "MODELWARD_ON_DEMAND_IDLE": "900",
    }


def _service_pid(home: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, KeyError):
        return int(json.loads((home / "home" / "service.json").read_text())["pid"])
    return None


@dataclass(frozen=True)
class Team:
    """The shared mirror and database a set of nodes uses."""

    bucket: str
    database: str

    @property
    def mirror(self) -> str:
        """The mirror's address."""
        return f"s3://{self.bucket}/hf"


def new_team(rig: Rig, n: int) -> Team:
    """A fresh bucket and a fresh database."""
    database = f"fleet_{n}_{uuid.uuid4().hex[:6]}"
    rig.pg.create_database(database)
    if rig.log_sql:
        rig.pgstats.execute(f"ALTER DATABASE {database} SET log_statement = 'all'")
    return Team(rig.s3.new_bucket(f"fleet-{n}"), database)


def drop_bucket(rig: Rig, bucket: str) -> None:
    """Empty and delete a bucket (its SeaweedFS collection and volumes go with it)."""
    client = rig.s3.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for u in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    client.delete_bucket(Bucket=bucket)


def run_modelward(rig: Rig, n: int, team: Team, label: str, first: int = 1) -> FleetRun:
    """N modelward nodes pulling the model at once through ``team``'s mirror and database."""
    root = rig.workdir / "runs" / f"{label}-{n}"
    names = [f"node-{i}" for i in range(first, first + n)]
    homes = [root / name for name in names]
    for h in homes:
        h.mkdir(parents=True)
    envs = [
        node_env(rig, h, name, team.mirror, rig.pg.url_of(team.database))
        for h, name in zip(homes, names, strict=True)
    ]
    run = FleetRun(n, "modelward", rig.hub.repo_size, label=label)
    stats = rig.pgstats
    cpu0 = rig.server_cpu()
    rig.hub.reset()
    x0 = stats.xacts(team.database)
    # The mirror's growth counts, not what earlier runs left in SeaweedFS's volumes.
    weed_before = rig.s3.disk_bytes()
    measure = lambda: allocated_bytes(homes) + rig.s3.disk_bytes() - weed_before  # noqa: E731
    services: list[int | None] = []
    try:
        started = time.monotonic()
        timeline = LeaseTimeline(stats, team.database, started)
        with DiskPeak(measure) as disk:
            timeline.start()
            procs = [
                rig.registry.spawn([rig.modelward, "pull", MODEL_ID], env, root / f"{name}.log")
                for env, name in zip(envs, names, strict=True)
            ]
            ended = _wait_all(procs, started, rig.timeout_s)
            timeline.stop()
            x1 = stats.xacts(team.database)
            x1 = Xacts(x1.t, x1.count - timeline.polls)
            idle = _idle_window(rig, team.database)
            services = [_service_pid(h) for h in homes]
            service_cpu = [proc_cpu_s(p) if p else 0.0 for p in services]
    finally:
        # After an error the services are found from each home's service.json.
        for pid in services or [_service_pid(h) for h in homes]:
            if pid:
                stop_pid(pid)
    run.peak_disk = disk.peak
    run.egress = rig.hub.stats().file_bytes
    cpu1 = rig.server_cpu()
    run.server_cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
    run.nodes = [
        NodeResult(name, rc, t, cpu + svc)
        for name, (rc, t, cpu), svc in zip(names, ended, service_cpu, strict=True)
    ]
    run.ready_s = max(t for _, t, _ in ended)
    run.load = os.getloadavg()[0]
    run.hub_done_s = max(timeline.fetched.values(), default=None)
    run.mirror_done_s = max(timeline.published.values(), default=None)
    run.db_connections = timeline.connections
    run.pull_xacts_per_node_s = rate(x0, x1) / n
    run.idle_xacts_per_node_s = idle / n
    _read_leases(rig, team.database, run)
    return run


def _idle_window(rig: Rig, database: str) -> float:
    """Transactions per second the database sees while the services sit idle."""
    time.sleep(SETTLE_S)
    a: Xacts = rig.pgstats.xacts(database)
    time.sleep(rig.idle_s)
    b: Xacts = rig.pgstats.xacts(database)
    return rate(a, b)


def _read_leases(rig: Rig, database: str, run: FleetRun) -> None:
    stats = rig.pgstats
    rows = stats.rows(database, "SELECT holder, count(*) FROM blob_leases GROUP BY holder")
    run.leaders = {str(h): int(c) for h, c in rows}  # type: ignore[call-overload]
    rows = stats.rows(database, "SELECT state, count(*) FROM blob_leases GROUP BY state")
    run.lease_states = {str(s): int(c) for s, c in rows}  # type: ignore[call-overload]
    run.lease_rows = sum(run.lease_states.values())


def run_hf(rig: Rig, n: int) -> FleetRun:
    """N independent ``snapshot_download`` processes at once, each into its own cache."""
    root = rig.workdir / "runs" / f"hf-{n}"
    caches = [root / f"client-{i}" for i in range(1, n + 1)]
    for c in caches:
        c.mkdir(parents=True)
    run = FleetRun(n, "huggingface_hub", rig.hub.repo_size, label="hf")
    cpu0 = rig.server_cpu()
    rig.hub.reset()
    with DiskPeak(lambda: allocated_bytes(caches)) as disk:
        started = time.monotonic()
        procs = [
            rig.registry.spawn(
                [
                    rig.python,
                    "-m",
                    "bench.hf_snapshot",
                    "--endpoint",
                    rig.hub.url,
                    "--cache-dir",
                    str(c),
                ],
                rig.env,
                root / f"{c.name}.log",
            )
            for c in caches
        ]
        ended = _wait_all(procs, started, rig.timeout_s)
    run.peak_disk = disk.peak
    run.egress = rig.hub.stats().file_bytes
    cpu1 = rig.server_cpu()
    # Only the hub serves this method: SeaweedFS and PostgreSQL idle are not its cost.
    run.server_cpu = {"hub": cpu1["hub"] - cpu0["hub"]}
    run.nodes = [
        NodeResult(c.name, rc, t, cpu) for c, (rc, t, cpu) in zip(caches, ended, strict=True)
    ]
    run.ready_s = max(t for _, t, _ in ended)
    run.load = os.getloadavg()[0]
    return run


def clear_runs(rig: Rig) -> None:
    """Delete every node's store and client cache (disk must not accumulate across runs)."""
    shutil.rmtree(rig.workdir / "runs", ignore_errors=True)
