"""The system health report and the checks behind it, over a real store and database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from modelward.actions import Action
from modelward.devhub import DevHub, Fault
from modelward.events import Event, EventType
from modelward.health import HealthCondition, Severity, VerifyLevel
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus, model_status
from tests.conftest import TI2V, make_settings
from tests.health.conftest import Model


async def test_the_report_counts_conditions_and_recommends_actions(
    model: Model, runtime: Runtime
) -> None:
    report = await runtime.health.get_health_report()
    by_id = {m.model_id: m for m in report.models}
    assert by_id[TI2V].condition is HealthCondition.HEALTHY
    assert report.models_healthy == 1 and report.models_corrupted == 0
    assert report.models_absent == len(runtime.catalog.ids()) - 1
    assert report.overall_health_score == 1.0
    assert 0 < report.storage_usage_percent <= 100 and report.storage_free_bytes > 0
    # The verified pull counts as a full check: no check is recommended for it; absent
    # models can be downloaded. Recommendations name an action and a model, no command.
    assert by_id[TI2V].last_check_level == "full" and by_id[TI2V].check_age_s is not None
    actions = {(r.action, r.model_id) for r in report.recommendations}
    assert (Action.VERIFY, TI2V) not in actions
    assert {(Action.DOWNLOAD, m) for m in runtime.catalog.ids() if m != TI2V} <= actions

    await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
    shard = model.shard()
    with model.blob(shard).open("r+b") as fh:
        fh.write(b"\0" * 8)  # the header length of a safetensors file
    checked = await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
    assert "corruption" in checked.issues

    report = await runtime.health.get_health_report()
    ti2v = next(m for m in report.models if m.model_id == TI2V)
    assert ti2v.condition is HealthCondition.CORRUPTED and report.models_corrupted == 1
    # The stat only says "modified"; the report names what the structural check found.
    assert [(i.path, i.kind.value) for i in ti2v.issues] == [(shard, "bad-header")]
    assert ti2v.last_check_level == "structural" and ti2v.check_age_s is not None
    assert 0 < report.overall_health_score < 1
    first = report.recommendations[0]
    assert first.severity is Severity.CRITICAL and first.action is Action.REPAIR
    assert first.model_id == TI2V and shard in first.message


async def test_results_survive_a_restart_with_their_age(tmp_path: Path, hub: DevHub) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        result = await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
    async with Runtime(settings) as runtime:
        # Newest first: the full check, then the verified pull's own record.
        kept, pulled = runtime.health.history.recent(TI2V)
        assert pulled.level is VerifyLevel.FULL and pulled.checked_at < result.checked_at
        assert kept.level is VerifyLevel.FULL and kept.checked_at == result.checked_at
        assert kept.bytes_hashed == result.bytes_hashed and kept.is_healthy
        status = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert status.last_health_check is not None
        assert abs(status.last_health_check.timestamp() - result.checked_at) < 1e-3
        report = await runtime.health.get_health_report()
        ti2v = next(m for m in report.models if m.model_id == TI2V)
        assert ti2v.last_check_level == "full" and ti2v.check_age_s is not None
        assert not any(r.model_id == TI2V for r in report.recommendations)


async def test_a_model_under_repair_is_repairing_and_never_available(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        target = runtime.manager.known_target(TI2V)
        assert target is not None
        big = max(target.files, key=lambda f: f.size_bytes)
        blob = runtime.manager.layout(TI2V).blob_path(big.blob_name)
        blob.chmod(0o644)
        with blob.open("r+b") as fh:
            fh.seek(big.size_bytes // 2)
            fh.write(os.urandom(4096))
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        hub.set_faults([Fault.rate(2_000_000)])  # slow enough to look at the repair
        repair = asyncio.create_task(runtime.health.verify_and_repair_model(TI2V))
        while not any(e.type == EventType.DOWNLOAD_STARTED for e in events):
            await asyncio.sleep(0.02)
        during = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert during.availability_status is ModelAvailabilityStatus.REPAIRING
        # Never handed out meanwhile; the card still says where the model lives.
        assert not during.is_available and during.local_path is not None
        again = await asyncio.gather(
            runtime.health.verify_and_repair_model(TI2V), return_exceptions=True
        )
        assert "already running" in str(again[0])
        hub.clear_faults()
        result = await repair
        assert result.success
        after = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert after.availability_status is ModelAvailabilityStatus.AVAILABLE
        kinds = [e.type for e in events]
        assert kinds.index(EventType.REPAIR_STARTED) < kinds.index(EventType.REPAIR_FINISHED)
        finished = next(e for e in events if e.type == EventType.REPAIR_FINISHED)
        assert finished.data["success"] and finished.data["files"] == [big.path]


async def test_a_file_put_right_after_a_check_is_not_blamed(model: Model, runtime: Runtime) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    original = blob.read_bytes()
    with blob.open("r+b") as fh:
        fh.write(b"\0" * 8)
    assert "bad-header" in (await runtime.health.check_model_integrity(TI2V)).issues
    quick = await runtime.health.check_model_integrity(TI2V, VerifyLevel.QUICK)
    assert [i.kind.value for i in quick.issues] == ["bad-header"]  # remembered, not re-read

    blob.write_bytes(original)  # put right by hand: the stat moved on
    report = await runtime.health.get_health_report()
    ti2v = next(m for m in report.models if m.model_id == TI2V)
    assert [i.kind.value for i in ti2v.issues] == ["modified"]
    assert ti2v.condition is HealthCondition.DEGRADED
    assert not any(r.action is Action.REPAIR for r in report.recommendations)
    assert (await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)).is_healthy


async def test_a_model_with_nothing_on_disk_is_not_downloaded_in_the_report(
    model: Model, runtime: Runtime
) -> None:
    # Its files are known (status resolved them from the hub), yet none is on disk: the
    # report must say what its status says, not list every file as missing.
    other = next(m for m in runtime.catalog.ids() if m != TI2V)
    status = await model_status(runtime.downloader, other, health=runtime.health)
    assert status.availability_status is ModelAvailabilityStatus.MISSING
    assert status.downloaded_bytes == 0 and runtime.manager.known_target(other) is not None
    gone = model.shard()
    model.blob(gone).unlink()  # TI2V keeps its other files: that is incomplete

    report = await runtime.health.get_health_report()
    by_id = {m.model_id: m for m in report.models}
    assert by_id[other].condition is HealthCondition.ABSENT
    assert by_id[other].issues == () and by_id[other].integrity_score is None
    assert by_id[TI2V].condition is HealthCondition.INCOMPLETE
    assert [(i.path, i.kind.value) for i in by_id[TI2V].issues] == [(gone, "missing")]
    assert report.models_incomplete == 1
    assert report.models_absent == len(runtime.catalog.ids()) - 1
    advice = [r for r in report.recommendations if r.model_id == other]
    assert [(r.action, r.message) for r in advice] == [
        (Action.DOWNLOAD, f"{other}: not downloaded")
    ]
