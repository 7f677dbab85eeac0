"""ModelAvailabilityManager on a real store and the local hub: states from facts, every
change an event, requests answered, downloads ordered by demand, cleanup that never takes
what is wanted."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from pathlib import Path

from modelward.actions import Action
from modelward.analytics import StorageConstraints, UsageData
from modelward.availability import FallbackType, GenerationRequirements, RetentionPolicy
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.events import Event, EventType
from modelward.health import VerifyLevel
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus as State
from modelward.store.records import DamagedRecord
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, small_disk

T2V = "t2v-a14b"
I2V = "i2v-a14b"


def _record_states(runtime: Runtime) -> list[Event]:
    seen: list[Event] = []
    runtime.bus.subscribe(lambda e: seen.append(e) if e.type == EventType.MODEL_STATE else None)
    return seen


def _chain(events: list[Event], model_id: str) -> list[str]:
    mine = [e for e in events if e.model_id == model_id]
    for before, after in itertools.pairwise(mine):
        assert after.data["previous"] == before.data["state"], mine  # no transition lost
    return [e.data["state"] for e in mine]


async def test_every_model_has_a_status_with_usage_from_the_generation_log(
    runtime: Runtime,
) -> None:
    statuses = await runtime.availability.get_comprehensive_model_status()
    assert list(statuses) == [spec.id for spec in runtime.catalog]
    assert all(s.availability_status is State.MISSING for s in statuses.values())
    assert statuses[TI2V].size_bytes > 0 and statuses[TI2V].usage_frequency == 0.0

    assert (await runtime.downloader.download_with_retry(TI2V)).success
    for _ in range(3):
        async with runtime.bridge.use_model(TI2V):
            await asyncio.sleep(0.02)
    status = (await runtime.availability.get_comprehensive_model_status())[TI2V]
    assert status.availability_status is State.AVAILABLE and status.local_path
    assert status.current_version and status.integrity_score == 1.0
    assert status.last_used is not None and status.average_generation_time is not None
    assert status.average_generation_time >= 0.02
    assert status.usage_frequency == 3 / 30  # three jobs over the 30-day window


async def test_each_state_change_is_one_event_from_missing_to_available_and_back(
    runtime: Runtime, hub: DevHub
) -> None:
    events = _record_states(runtime)
    hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    await runtime.downloader.start_download(TI2V)
    while (await runtime.downloader.get_download_progress(TI2V)).downloaded_bytes == 0:
        await asyncio.sleep(0.02)
    assert await runtime.downloader.pause_download(TI2V)
    await runtime.availability.settle()
    hub.clear_faults()
    assert await runtime.downloader.resume_download(TI2V)
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    await runtime.availability.settle()
    states = _chain(events, TI2V)
    assert states[0] in ("queued", "downloading") and "paused" in states
    assert states[-1] == "available"
    assert runtime.availability.known_state(TI2V) is State.AVAILABLE

    # Damage found by a check is "corrupted"; the repair goes through "repairing".
    target = await runtime.downloader.source(TI2V).resolve(runtime.catalog.get(TI2V))
    biggest = max(target.files, key=lambda f: f.size_bytes)
    layout = runtime.manager.layout(TI2V)
    blob = layout.blob_path(biggest.blob_name)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff" * 16)
    await runtime.health.check_model_integrity(TI2V, VerifyLevel.FULL)
    await runtime.availability.settle()
    assert runtime.availability.known_state(TI2V) is State.CORRUPTED
    assert (await runtime.health.verify_and_repair_model(TI2V)).success
    await runtime.availability.settle()
    assert _chain(events, TI2V)[-3:] == ["corrupted", "repairing", "available"]


async def test_handle_model_request_gives_a_path_or_the_strategy(runtime: Runtime) -> None:
    missing = await runtime.availability.handle_model_request(TI2V)
    assert not missing.success and missing.model_id is None
    assert missing.availability_status is State.MISSING
    assert missing.strategy is not None
    assert missing.strategy.strategy_type is FallbackType.DOWNLOAD_AND_RETRY
    assert missing.upgrade and missing.upgrade.action is Action.DOWNLOAD
    assert missing.upgrade.model_id == TI2V

    assert (await runtime.downloader.download_with_retry(TI2V)).success
    ready = await runtime.availability.handle_model_request(TI2V)
    assert ready.success and ready.model_id == TI2V and ready.strategy is None
    assert ready.path and (Path(ready.path) / "model_index.json").is_file()

    instead = await runtime.availability.handle_model_request(T2V)
    assert instead.success and instead.model_id == TI2V
    assert instead.strategy is not None
    assert instead.strategy.strategy_type is FallbackType.ALTERNATIVE_MODEL


async def test_downloads_are_ordered_by_the_jobs_waiting_for_them(
    runtime: Runtime, hub: DevHub
) -> None:
    hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    await runtime.downloader.start_download(TI2V)
    await runtime.downloader.start_download(T2V)
    assert [e.model_id for e in await runtime.downloader.queue_entries()][:2] == [TI2V, T2V]
    await runtime.requests.put(T2V, {"prompt": "a"}, 600)
    await runtime.requests.put(T2V, {"prompt": "b"}, 600)
    order = await runtime.availability.prioritize_model_downloads()
    assert order[0] == T2V and set(order) == {TI2V, T2V, I2V}
    assert [e.model_id for e in await runtime.downloader.queue_entries()][:2] == [T2V, TI2V]
    hub.clear_faults()


async def test_ensure_all_models_available_starts_what_each_needs(
    runtime: Runtime,
) -> None:
    states = await runtime.availability.ensure_all_models_available([TI2V])
    assert states[TI2V] in (State.QUEUED, State.DOWNLOADING, State.VERIFYING, State.AVAILABLE)
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    again = await runtime.availability.ensure_all_models_available([TI2V])
    assert again == {TI2V: State.AVAILABLE}
    assert not runtime.downloader.is_running(TI2V)


async def test_cleanup_is_a_dry_run_by_default_and_never_takes_what_is_wanted(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    snapshot = runtime.manager.layout(TI2V).repo_dir
    files_before = sorted(p for p in snapshot.rglob("*"))
    fresh = await runtime.availability.cleanup_unused_models()
    assert fresh.dry_run and fresh.removed == []
    [kept] = fresh.kept
    assert kept.model_id == TI2V and "not used yet" in kept.reason

    old = RetentionPolicy(keep_recent_days=0)
    planned = await runtime.availability.cleanup_unused_models(old)
    [candidate] = planned.removed
    assert candidate.model_id == TI2V and candidate.reason == "never used by a job"
    assert planned.freed_bytes == candidate.size_bytes > 0
    assert planned.free_bytes_after == planned.free_bytes_before + planned.freed_bytes
    assert sorted(p for p in snapshot.rglob("*")) == files_before  # nothing touched

    async with runtime.bridge.use_model(TI2V):
        busy = await runtime.availability.cleanup_unused_models(
            RetentionPolicy(keep_recent_days=0, dry_run=False)
        )
    assert busy.removed == [] and busy.kept[0].reason == "in use by a job"
    # A request still queued (released ones are not) keeps its model.
    queued = await runtime.requests.put(TI2V, {"prompt": "x"}, 600)
    waiting = await runtime.availability.cleanup_unused_models(
        RetentionPolicy(keep_recent_days=0, dry_run=False)
    )
    assert waiting.removed == [] and "queued job" in waiting.kept[0].reason
    await runtime.requests.cancel(queued.request_id)
    pinned = await runtime.availability.cleanup_unused_models(
        RetentionPolicy(keep_recent_days=0, keep=frozenset({TI2V}), dry_run=False)
    )
    assert pinned.removed == [] and pinned.kept[0].reason == "kept by the policy"


async def test_cleanup_execute_removes_the_files_and_says_so(runtime: Runtime) -> None:
    events = _record_states(runtime)
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    await runtime.availability.settle()
    layout = runtime.manager.layout(TI2V)
    used = sum(p.stat().st_size for p in layout.blobs_dir.iterdir())
    done = await runtime.availability.cleanup_unused_models(
        RetentionPolicy(keep_recent_days=0, dry_run=False)
    )
    assert [c.model_id for c in done.removed] == [TI2V] and done.freed_bytes == used
    assert not any(layout.blobs_dir.iterdir())
    assert not layout.ref_path("main").exists()
    assert_store_invariants(runtime.settings.cache_dir)
    await runtime.availability.settle()
    assert _chain(events, TI2V)[-1] == "missing"
    status = await runtime.availability.status(TI2V)
    assert status.availability_status is State.MISSING and status.present_bytes == 0
    # Nothing left behind that would fool the next download.
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    assert (await runtime.availability.status(TI2V)).is_available


async def test_a_cleanup_plan_changes_nothing_and_its_execution_looks_again(
    runtime: Runtime,
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    layout = runtime.manager.layout(TI2V)
    blobs = sorted(layout.blobs_dir.iterdir())
    plan = await runtime.availability.plan_cleanup(RetentionPolicy(keep_recent_days=0))
    assert [c.model_id for c in plan.remove] == [TI2V] and plan.planned_bytes > 0
    assert sorted(layout.blobs_dir.iterdir()) == blobs  # a plan is only a plan
    # Pinned after the plan was made: executing it looks again and keeps the model.
    assert await runtime.availability.pin_model(TI2V)
    result = await plan.execute()
    assert not result.dry_run and result.removed == [] and result.freed_bytes == 0
    assert [(c.model_id, c.reason) for c in result.kept] == [(TI2V, "pinned")]
    assert sorted(layout.blobs_dir.iterdir()) == blobs
    assert await runtime.availability.pin_model(TI2V, pinned=False)
    done = await plan.execute()
    assert [c.model_id for c in done.removed] == [TI2V] and done.freed_bytes > 0
    assert not any(layout.blobs_dir.iterdir())


async def test_cleanup_keeps_blobs_other_models_still_link(runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    target = await runtime.downloader.source(TI2V).resolve(runtime.catalog.get(TI2V))
    layout = runtime.manager.layout(TI2V)
    shared = target.files[0]
    other = layout.repo_dir / "snapshots" / ("f" * 40) / shared.path
    other.parent.mkdir(parents=True)
    other.symlink_to(os.path.relpath(layout.blob_path(shared.blob_name), other.parent))
    await runtime.availability.cleanup_unused_models(
        RetentionPolicy(keep_recent_days=0, dry_run=False)
    )
    assert layout.blob_path(shared.blob_name).is_file() and other.resolve().is_file()
    gone = [f for f in target.files if f.blob_name != shared.blob_name]
    assert gone and not any(layout.blob_path(f.blob_name).exists() for f in gone)
    assert layout.repo_dir.name == "models--" + TI2V_REPO.replace("/", "--")


async def test_cleanup_picks_the_least_valuable_models_from_their_usage(
    runtime: Runtime,
) -> None:
    for model_id in (TI2V, T2V, I2V):
        assert (await runtime.downloader.download_with_retry(model_id)).success
    now = time.time()
    seeded = {TI2V: [1] * 10, I2V: [45] * 3, T2V: [60]}  # days ago of each job
    for model_id, ages in seeded.items():
        for age in ages:
            job = UsageData(duration_s=5.0, success=True, at=now - age * 86_400)
            await runtime.analytics.track_model_usage(model_id, job)
    sizes = {m: (await runtime.availability.status(m)).present_bytes for m in seeded}
    free = (await runtime.availability.cleanup_unused_models()).free_bytes_before

    # Used within 30 days stays; of the rest, the one unused longest goes first and, with
    # a target free size it alone meets, alone.
    plan = await runtime.availability.cleanup_unused_models(
        RetentionPolicy(keep_recent_days=30, target_free_bytes=free + sizes[T2V] // 2)
    )
    assert [c.model_id for c in plan.removed] == [T2V]
    assert "60.0 days ago" in plan.removed[0].reason
    kept = {c.model_id: c.reason for c in plan.kept}
    assert kept[I2V] == "the target free space is reached without it"
    assert kept[TI2V].startswith("used 1.0 days ago")
    everything = await runtime.analytics.recommend_model_cleanup(StorageConstraints())
    assert [c.model_id for c in everything.removed] == [T2V, I2V]

    await runtime.availability.pin_model(T2V)
    async with runtime.bridge.use_model(I2V, GenerationRequirements(inputs=frozenset({"image"}))):
        held = await runtime.availability.cleanup_unused_models(
            RetentionPolicy(keep_recent_days=30, dry_run=False)
        )
    assert held.removed == [] and {c.model_id: c.reason for c in held.kept}[T2V] == "pinned"
    assert {c.model_id: c.reason for c in held.kept}[I2V] == "in use by a job"
    for model_id in seeded:
        assert (await runtime.availability.status(model_id)).is_available
    # The job just run on I2V counts as a use: now it stays too.
    recommended = await runtime.analytics.recommend_model_cleanup(StorageConstraints())
    assert recommended.dry_run and recommended.removed == []
    status = await runtime.availability.status(TI2V)
    assert status.usage_frequency == round(10 / 30, 3) and status.average_generation_time == 5.0


async def test_deriving_a_state_never_reads_file_contents(runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    target = runtime.manager.known_target(TI2V)
    assert target is not None
    layout = runtime.manager.layout(TI2V)
    blob = layout.blob_path(max(target.files, key=lambda f: f.size_bytes).blob_name)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.write(b"\0" * 8)
    runtime.bus.publish(Event(EventType.HEALTH_CHECKED, TI2V, {}))
    await runtime.availability.settle()
    # Changed since verified reads as damaged, and nothing was hashed or recorded.
    assert runtime.availability.known_state(TI2V) is State.CORRUPTED
    assert DamagedRecord(layout).reason(blob.name) is None


async def test_removing_a_model_keeps_the_files_another_model_of_the_same_commit_uses(
    tmp_path: Path, hub: DevHub
) -> None:
    extra = tmp_path / "vae.toml"
    extra.write_text(
        f'[models.ti2v-vae]\nrepo = "{TI2V_REPO}"\nrevision = "main"\ninclude = ["vae/*"]\n'
    )
    settings = make_settings(tmp_path, hub.url, catalog_files=(extra,))
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        assert (await runtime.downloader.download_with_retry("ti2v-vae")).success
        vae = await runtime.availability.status("ti2v-vae")
        policy = RetentionPolicy(keep_recent_days=0, keep=frozenset({"ti2v-vae"}))
        planned = await runtime.availability.cleanup_unused_models(policy)
        full = (await runtime.availability.status(TI2V)).size_bytes
        [candidate] = planned.removed
        assert candidate.model_id == TI2V
        assert 0 < candidate.size_bytes <= full - vae.size_bytes  # the shared VAE stays
        done = await runtime.availability.cleanup_unused_models(
            RetentionPolicy(keep_recent_days=0, keep=frozenset({"ti2v-vae"}), dry_run=False)
        )
        assert done.freed_bytes == candidate.size_bytes
        after = await runtime.availability.status("ti2v-vae", hash_unknown=False)
        assert after.is_available and after.local_path
        vae_target = runtime.manager.known_target("ti2v-vae")
        assert vae_target is not None
        assert all((Path(after.local_path) / f.path).is_file() for f in vae_target.files)
        assert (await runtime.availability.status(TI2V)).availability_status is State.MISSING
        assert_store_invariants(settings.cache_dir)


async def test_a_download_that_cannot_fit_names_what_could_be_freed(
    tmp_path: Path, hub: DevHub
) -> None:
    total = hub.manifest(TI2V_REPO).total_size
    with small_disk(tmp_path / "disk", str(total + 1_500_000)) as disk:
        settings = make_settings(tmp_path, hub.url, cache_dir=disk / "cache")
        async with Runtime(settings) as runtime:
            assert (await runtime.downloader.download_with_retry(TI2V)).success
            refused = await runtime.downloader.download_with_retry(T2V)
            assert refused.error_code == "insufficient-space"
            assert f"{TI2V} (" in (refused.error_hint or "")
            assert "removing one frees its size" in (refused.error_hint or "")
            await runtime.availability.pin_model(TI2V)
            pinned = await runtime.downloader.download_with_retry(T2V)
            assert TI2V not in (pinned.error_hint or "")  # a pinned model is no option


async def test_low_space_is_announced_once_per_crossing(runtime: Runtime) -> None:
    seen: list[Event] = []
    runtime.bus.subscribe(lambda e: seen.append(e) if e.type == EventType.STORAGE_LOW else None)
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    watch = runtime.storage
    watch.low_space_bytes = 10**18
    first = await watch.check()
    assert first.low and [c.model_id for c in first.suggestions.removed] == [TI2V]
    await watch.check()
    assert len(seen) == 1 and seen[0].data["suggestions"] == [TI2V]
    watch.low_space_bytes = 0
    assert not (await watch.check()).low
    watch.low_space_bytes = 10**18
    await watch.check()
    assert len(seen) == 2
    watch.unused_after_days = 1e-9
    assert [c.model_id for c in (await watch.status()).unused] == [TI2V]
