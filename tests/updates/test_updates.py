"""Model updates against the local hub's "new commit on main": detection, an apply that
fetches only what changed while the app keeps the old version, rollbacks on command, on a
failed verification and on failing first jobs, and the old version removed once the new
one proved itself."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from modelward.actions import Action
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import NoPreviousVersionError
from modelward.events import Event
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus as State
from modelward.updates import UpdatePolicy, UpdateState
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings


def _changed(hub: DevHub, old: str, new: str) -> list[str]:
    before = {f.path: f.content_sha256 for f in hub.manifest(TI2V_REPO, old).files}
    return sorted(
        f.path for f in hub.manifest(TI2V_REPO, new).files if before.get(f.path) != f.content_sha256
    )


def _file_gets(hub: DevHub) -> list[str]:
    return [r.path for r in hub.request_log if r.method == "GET" and "/api/" not in r.path]


async def _served(runtime: Runtime) -> str:
    found = await runtime.availability.handle_model_request(TI2V)
    assert found.path is not None
    return Path(found.path).name


async def test_a_new_commit_is_found_and_applied_fetching_only_what_changed(
    runtime: Runtime, hub: DevHub
) -> None:
    events: list[Event] = []
    runtime.bus.subscribe(lambda e: events.append(e) if e.type.startswith("update.") else None)
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    none = await runtime.updater.check_for_update(TI2V)
    assert not none.update_available and none.current_version == old

    new = hub.bump_commit(TI2V_REPO)
    found = await runtime.updater.check_for_update(TI2V)
    assert found.update_available and found.latest_version == new
    assert found.action is Action.UPDATE  # the CLI says the command, the API the route
    status = await runtime.availability.status(TI2V)
    assert status.update_available and status.latest_version == new
    assert status.current_version == old
    assert [e.type for e in events] == ["update.available"]

    changed = _changed(hub, old, new)
    assert 0 < len(changed) < len(hub.manifest(TI2V_REPO).files)
    hub.clear_log()
    hub.set_faults(FaultPlan([Fault.rate(300_000)]))
    applying = asyncio.create_task(runtime.updater.apply_update(TI2V))
    while runtime.downloader.running_commit(TI2V) != new:
        await asyncio.sleep(0.01)
    # While the new version arrives the app keeps getting the old one.
    during = await runtime.availability.status(TI2V)
    assert during.availability_status is State.UPDATING and during.is_available
    assert await _served(runtime) == old
    hub.clear_faults()
    result = await applying
    assert result.success and result.state is UpdateState.APPLIED
    assert result.current_version == new and result.previous_version == old
    assert await _served(runtime) == new
    fetched = _file_gets(hub)
    assert fetched
    lfs_changed = [f.content_sha256 for f in hub.manifest(TI2V_REPO).files if f.path in changed]
    assert all(
        any(p.endswith(c) for c in changed) or p.rsplit("/", 1)[-1] in lfs_changed for p in fetched
    ), fetched
    assert [e.type for e in events][-2:] == ["update.started", "update.applied"]
    assert not (await runtime.availability.status(TI2V)).update_available
    assert_store_invariants(runtime.settings.cache_dir)


async def test_a_failed_verification_keeps_serving_the_old_version(
    runtime: Runtime, hub: DevHub
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    new = hub.bump_commit(TI2V_REPO)
    biggest_changed = max(
        (f for f in hub.manifest(TI2V_REPO).files if f.path in _changed(hub, old, new)),
        key=lambda f: f.size,
    )
    hub.set_faults(FaultPlan([Fault.corrupt(10, 20, path_glob="*" + biggest_changed.path)]))
    result = await runtime.updater.apply_update(TI2V, max_retries=0)
    assert not result.success and result.state is UpdateState.ROLLED_BACK
    assert result.current_version == old and "failed" in result.message
    assert await _served(runtime) == old
    record = runtime.updater.record(TI2V)
    assert record.skipped == new and record.reason
    check = await runtime.updater.check_for_update(TI2V)
    assert check.update_available and check.skipped  # auto updates leave it alone
    hub.clear_faults()
    assert_store_invariants(runtime.settings.cache_dir)


async def test_rollback_on_command_and_after_failing_first_jobs(
    runtime: Runtime, hub: DevHub
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    new = hub.bump_commit(TI2V_REPO)
    assert (await runtime.updater.apply_update(TI2V)).success
    back = await runtime.updater.rollback(TI2V)
    assert back.success and back.current_version == old and back.previous_version == new
    assert await _served(runtime) == old
    assert (await runtime.availability.status(TI2V)).current_version == old

    # Apply again (a person chose to), then the first two jobs fail: back to the old one.
    runtime.updater.defaults = dataclasses.replace(
        runtime.updater.defaults, rollback_after_failures=2
    )
    again = await runtime.updater.apply_update(TI2V)
    assert again.success and await _served(runtime) == new
    for _ in range(2):
        try:
            async with runtime.bridge.use_model(TI2V):
                raise RuntimeError("cannot load the transformer")
        except RuntimeError:
            pass
    assert await _served(runtime) == old
    record = runtime.updater.record(TI2V)
    assert record.state is UpdateState.ROLLED_BACK and "first 2 jobs" in (record.reason or "")


async def test_the_previous_version_goes_once_the_new_one_proved_itself(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url, keep_previous_successes=2)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        old = hub.manifest(TI2V_REPO).commit
        new = hub.bump_commit(TI2V_REPO)
        assert (await runtime.updater.apply_update(TI2V)).success
        layout = runtime.manager.layout(TI2V)
        assert layout.snapshot_dir(old).is_dir()
        async with runtime.bridge.use_model(TI2V):
            pass
        assert layout.snapshot_dir(old).is_dir()  # one success is not yet enough
        async with runtime.bridge.use_model(TI2V):
            pass
        # The job's bookkeeping does not wait for the full hash of the served version: the
        # prune runs in the background, the old version still there meanwhile.
        pruning = runtime.updater.pending_prune(TI2V)
        assert pruning is not None and not pruning.done()
        assert layout.snapshot_dir(old).is_dir()
        await pruning
        assert runtime.updater.pending_prune(TI2V) is None
        assert not layout.snapshot_dir(old).exists() and layout.snapshot_dir(new).is_dir()
        assert runtime.updater.record(TI2V).state is UpdateState.SETTLED
        assert (await runtime.availability.status(TI2V)).is_available
        assert_store_invariants(settings.cache_dir)


async def test_rollback_without_a_previous_version_says_why(runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    with pytest.raises(NoPreviousVersionError, match="no previous version"):
        await runtime.updater.rollback(TI2V)


async def test_a_rollback_lasts_through_pulls_and_repairs(runtime: Runtime, hub: DevHub) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    hub.bump_commit(TI2V_REPO)
    assert (await runtime.updater.apply_update(TI2V)).success
    assert (await runtime.updater.rollback(TI2V)).current_version == old
    hub.clear_log()
    assert (await runtime.downloader.download_with_retry(TI2V)).success  # a plain pull
    assert await _served(runtime) == old and not _file_gets(hub)
    target = runtime.manager.known_target(TI2V)
    assert target is not None
    blob = runtime.manager.layout(TI2V).blob_path(
        max(target.files, key=lambda f: f.size_bytes).blob_name
    )
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.write(b"\0" * 8)
    assert (await runtime.health.verify_and_repair_model(TI2V)).success
    assert await _served(runtime) == old


async def test_an_update_cut_short_by_the_network_can_be_tried_again(
    runtime: Runtime, hub: DevHub
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    new = hub.bump_commit(TI2V_REPO)
    hub.set_faults(FaultPlan([Fault.http_status(503, path_glob="*" + _changed(hub, old, new)[0])]))
    stopped = await runtime.updater.apply_update(TI2V, max_retries=0)
    assert not stopped.success and stopped.state is UpdateState.CURRENT
    assert stopped.action is Action.UPDATE and await _served(runtime) == old
    assert runtime.updater.record(TI2V).skipped is None
    hub.clear_faults()
    again = await runtime.updater.apply_update(TI2V)
    assert again.success and await _served(runtime) == new


async def test_policies_notify_ask_and_auto(runtime: Runtime, hub: DevHub) -> None:
    events: list[Event] = []
    runtime.bus.subscribe(lambda e: events.append(e) if e.type.startswith("update.") else None)
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO).commit
    new = hub.bump_commit(TI2V_REPO)
    await runtime.updater.check_all()  # notify, the default: said, nothing done
    assert [e.type for e in events] == ["update.available"] and await _served(runtime) == old
    await runtime.updater.set_policy(TI2V, UpdatePolicy.ASK)
    await runtime.updater.check_all()
    [proposed] = [e for e in events if e.type == "update.proposed"]
    assert proposed.data["action"] == "update" and proposed.model_id == TI2V
    assert await _served(runtime) == old
    await runtime.updater.set_policy(TI2V, UpdatePolicy.AUTO)
    await runtime.updater.check_all()
    for _ in range(200):
        if await _served(runtime) == new:
            break
        await asyncio.sleep(0.05)
    assert await _served(runtime) == new
    assert runtime.updater.record(TI2V).state is UpdateState.APPLIED
