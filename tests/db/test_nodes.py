"""Nodes sharing one PostgreSQL database keep their own state: each node's download queue,
generation requests, health check history and generation and usage figures are its own;
the audit log is the team's and says which node recorded each row."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from modelward.analytics import UsageData, UsageLog
from modelward.availability.requests import RequestQueue, RequestState
from modelward.db import Database, DownloadRow, health_checks
from modelward.devhub import DevHub, Fault
from modelward.errors import UnknownRequestError
from modelward.events import EventBus
from modelward.health.checker import IntegrityResult, VerifyLevel
from modelward.health.history import HealthHistory
from modelward.health.issues import IssueList
from modelward.health.performance import GenerationLog, GenerationMetrics
from modelward.ops.audit import AuditLog
from modelward.runtime import Runtime
from tests.conftest import TI2V, make_settings
from tests.pg import PostgresServer

T2V = "t2v-a14b"


@pytest.fixture
def two_nodes(postgres: PostgresServer) -> Iterator[tuple[Database, Database]]:
    """gpu-a and gpu-b on one new PostgreSQL database."""
    url = postgres.create_database()
    a, b = Database(url, node="gpu-a"), Database(url, node="gpu-b")
    yield a, b
    a.close()
    b.close()


def _row(model_id: str, state: str = "queued", position: int = 0) -> DownloadRow:
    return DownloadRow(model_id, state, "normal", position, 3)


def _queue(db: Database) -> list[tuple[str, str]]:
    return [(r.model_id, r.state) for r in db.load_downloads()]


def test_each_node_has_its_own_queue(two_nodes: tuple[Database, Database]) -> None:
    a, b = two_nodes
    a.save_download(_row(TI2V, "paused"))
    b.save_download(_row(TI2V, "queued", 1))  # the same model in both queues: two rows
    b.save_download(_row(T2V, "queued", 0))
    assert _queue(a) == [(TI2V, "paused")]
    assert _queue(b) == [(T2V, "queued"), (TI2V, "queued")]

    a.save_download(_row(TI2V, "queued"))  # replaces gpu-a's entry only
    b.delete_download(TI2V)  # gpu-b finished its pull: gpu-a's entry stays
    assert _queue(a) == [(TI2V, "queued")]
    assert _queue(b) == [(T2V, "queued")]
    assert (a.node, b.node) == ("gpu-a", "gpu-b")


def _check(model_id: str, at: float, healthy: bool = True) -> IntegrityResult:
    return IntegrityResult(model_id, VerifyLevel.STRUCTURAL, healthy, 1.0, IssueList(), at, 3)


def test_each_node_sees_its_own_health_history(two_nodes: tuple[Database, Database]) -> None:
    a, b = two_nodes
    HealthHistory(a).save(_check(TI2V, 100.0, healthy=True))
    HealthHistory(b).save(_check(TI2V, 200.0, healthy=False))  # newer, on another node
    assert HealthHistory(a).latest()[TI2V].checked_at == 100.0
    assert HealthHistory(b).latest()[TI2V].checked_at == 200.0
    assert [r.checked_at for r in HealthHistory(a).recent(TI2V)] == [100.0]
    latest = HealthHistory(a).latest_for(TI2V)
    assert latest is not None and latest.is_healthy


def test_a_check_recorded_before_nodes_is_every_nodes(two_nodes: tuple[Database, Database]) -> None:
    a, b = two_nodes
    # A row as revision 0001 held it: no node.
    old = {"model_id": T2V, "level": "structural", "is_healthy": True, "integrity_score": 1.0,
           "issues": [], "checked_at": 50.0, "files_checked": 2, "bytes_hashed": 0}  # fmt: skip
    a.write(lambda conn: conn.execute(insert(health_checks).values(**old)))
    for db in (a, b):
        assert [r.checked_at for r in HealthHistory(db).recent(T2V)] == [50.0]


def test_each_node_sees_its_own_generations_and_usage(
    two_nodes: tuple[Database, Database],
) -> None:
    a, b = two_nodes
    GenerationLog(a).add(TI2V, GenerationMetrics(10.0, at=1000.0))
    GenerationLog(b).add(T2V, GenerationMetrics(90.0, at=1000.0))
    GenerationLog(b).add(T2V, GenerationMetrics(95.0, at=1001.0))
    assert (GenerationLog(a).models(), GenerationLog(a).count()) == ([TI2V], 1)
    assert [m.generation_time_s for m in GenerationLog(b).history(T2V)] == [90.0, 95.0]
    assert GenerationLog(a).history(T2V) == []

    UsageLog(a).add(TI2V, UsageData(duration_s=10.0, success=True, at=1000.0))
    UsageLog(b).add(TI2V, UsageData(duration_s=12.0, success=True, at=2000.0))
    assert UsageLog(a).last_used(before=5000.0) == {TI2V: 1000.0}
    assert [e.usage.duration_s for e in UsageLog(b).events(0.0, 5000.0)] == [12.0]


async def test_releasing_a_model_releases_only_this_nodes_requests(
    two_nodes: tuple[Database, Database],
) -> None:
    a, b = two_nodes
    on_a, on_b = RequestQueue(a, EventBus()), RequestQueue(b, EventBus())
    first_a = await on_a.put(TI2V, {"prompt": "a fox"})
    first_b = await on_b.put(TI2V, {"prompt": "a kite"})
    second_b = await on_b.put(TI2V, {"prompt": "a boat"})
    # Positions count this node's requests only.
    assert (first_a.position, first_b.position, second_b.position) == (1, 1, 2)

    released = await on_a.release(TI2V)  # the model is ready on gpu-a
    assert [r.request_id for r in released] == [first_a.request_id]
    assert [r.request_id for r in await on_b.pending(TI2V)] == [
        first_b.request_id,
        second_b.request_id,
    ]
    assert (await on_b.get(first_b.request_id)).state is RequestState.QUEUED
    with pytest.raises(UnknownRequestError):
        await on_b.get(first_a.request_id)  # gpu-a's request is not gpu-b's to see
    assert await on_b.expire(now=time.time() + 10 * 86400) != []
    assert (await on_a.get(first_a.request_id)).state is RequestState.RELEASED


def test_the_audit_log_is_the_teams_and_says_which_node(
    two_nodes: tuple[Database, Database],
) -> None:
    a, b = two_nodes
    AuditLog(a).record("cli:ann", "download.start", model_id=TI2V)
    AuditLog(b).record("cli:bob", "model.remove", model_id=T2V)
    everyone = AuditLog(a).query()
    assert [(e.actor, e.node) for e in everyone] == [("cli:bob", "gpu-b"), ("cli:ann", "gpu-a")]
    assert [e.actor for e in AuditLog(b).query(node="gpu-a")] == ["cli:ann"]


async def test_a_download_queued_on_one_node_is_resumed_by_it_alone(
    tmp_path: Path, hub: DevHub, postgres: PostgresServer
) -> None:
    url = postgres.create_database()
    gpu_a, gpu_b = (
        make_settings(tmp_path / name, hub.url, node_name=name, database_url=url)
        for name in ("gpu-a", "gpu-b")
    )
    hub.set_faults([Fault.rate(200_000)])
    async with Runtime(gpu_a) as node_a:
        await node_a.downloader.start_download(TI2V)
        assert await node_a.downloader.pause_download(TI2V)
    hub.clear_faults()

    async with Runtime(gpu_b) as node_b:
        assert await node_b.downloader.restore_queue() == []  # not gpu-b's to resume
        # gpu-b pulls the same model itself; finishing forgets its own entry only.
        await node_b.downloader.start_download(TI2V)
        assert (await node_b.downloader.wait_for_completion(TI2V)).success
    async with Runtime(gpu_a) as node_a:
        entries = await node_a.downloader.restore_queue(start=False)
        assert [(e.model_id, e.status.value) for e in entries] == [(TI2V, "paused")]
