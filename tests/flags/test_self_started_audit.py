"""Work the service starts by itself leaves one audit record with its actor (scheduler,
automation, recovery) and the action name of the API route doing the same; the calls the
API makes for a person record nothing down here (the API layer records those)."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from pathlib import Path

from modelward.api.guard import GuardedRoute
from modelward.api.routes import health as health_routes
from modelward.api.routes import models as model_routes
from modelward.api.routes import updates as update_routes
from modelward.catalog import Catalog, load_catalog
from modelward.devhub import DevHub, Fault
from modelward.health import VerifyLevel
from modelward.ops import AuditEntry
from modelward.ops.selfstarted import (
    APPLY_UPDATE,
    PRUNE,
    REPAIR,
    ROLLBACK,
    START_DOWNLOAD,
    VERIFY,
)
from modelward.runtime import Runtime
from modelward.updates import UpdatePolicy
from tests.conftest import TI2V, TI2V_REPO, make_settings


def _action(route: Callable[..., object]) -> str:
    """The audit action the guard records for an API route: the one its route declares
    (by default its function's name in kebab-case; ``apply`` declares ``apply-update``)."""
    router = importlib.import_module(route.__module__).router
    [action] = [
        r.action for r in router.routes if isinstance(r, GuardedRoute) and r.endpoint is route
    ]
    assert action is not None
    return action


def test_every_self_started_action_is_an_api_routes_action() -> None:
    actions = {
        r.action
        for module in (health_routes, model_routes, update_routes)
        for r in module.router.routes
        if isinstance(r, GuardedRoute)
    }
    assert {VERIFY, REPAIR, START_DOWNLOAD, APPLY_UPDATE, ROLLBACK, PRUNE} <= actions


def _only_ti2v() -> Catalog:
    return Catalog([load_catalog((), env={}).get(TI2V)])


async def _records(runtime: Runtime, actor: str, count: int = 1) -> list[AuditEntry]:
    deadline = time.monotonic() + 20
    while True:
        found = [e for e in await runtime.audit.aquery(limit=500) if e.actor == actor]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"no {actor} record"
        await asyncio.sleep(0.05)


async def _damage(runtime: Runtime) -> None:
    target = runtime.manager.known_target(TI2V)
    assert target is not None
    index = next(f for f in target.files if f.path.endswith(".json"))
    blob = runtime.manager.layout(TI2V).blob_path(index.blob_name)
    blob.chmod(0o644)
    blob.write_bytes(b"<!DOCTYPE html><html>502</html>".ljust(index.size_bytes))


async def test_scheduled_checks_are_recorded_as_the_scheduler_verifying(
    tmp_path: Path, hub: DevHub
) -> None:
    # Interval 0: only the check at start, so exactly one record can come.
    settings = make_settings(
        tmp_path, hub.url, feature_update_checks=False, health_check_interval_s=0
    )
    async with Runtime(settings, catalog=_only_ti2v()) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        await runtime.health.check_model_integrity(TI2V, VerifyLevel.STRUCTURAL)
        assert await runtime.audit.aquery() == []  # asked for directly: the API records it
        await runtime.start_background()  # the check at start
        [entry] = await _records(runtime, "scheduler")
    assert entry.action == _action(health_routes.verify) and entry.model_id == TI2V
    assert entry.outcome == "ok" and entry.params == {"level": "structural", "condition": "healthy"}


async def test_repairs_and_downloads_automation_starts_are_recorded(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url, automation="auto", health_check_interval_s=0)
    async with Runtime(settings, catalog=_only_ti2v()) as runtime:
        await runtime.health.check_all()  # absent: automation fetches it
        [started] = await _records(runtime, "automation")
        assert started.action == _action(model_routes.start_download)
        assert started.model_id == TI2V and started.params == {"condition": "absent"}
        assert (await runtime.downloader.wait_for_completion(TI2V)).success

        await _damage(runtime)
        await runtime.health.check_all()
        await runtime.health.join_background()
        repaired = (await _records(runtime, "automation", 2))[0]  # newest first
    assert repaired.action == _action(health_routes.repair) and repaired.outcome == "ok"
    assert repaired.params == {"condition": "corrupted"}


async def test_updates_applied_and_rolled_back_by_automation_are_recorded(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url, rollback_after_failures=1)
    async with Runtime(settings) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        hub.bump_commit(TI2V_REPO)
        await runtime.updater.set_policy(TI2V, UpdatePolicy.AUTO)
        await runtime.updater.check_all()
        [applied] = await _records(runtime, "automation")
        assert applied.action == _action(update_routes.apply) and applied.outcome == "ok"
        try:
            async with runtime.bridge.use_model(TI2V):
                raise RuntimeError("cannot load the transformer")
        except RuntimeError:
            pass
        rolled = (await _records(runtime, "automation", 2))[0]
    assert rolled.action == _action(update_routes.rollback) and rolled.model_id == TI2V
    assert rolled.outcome == "ok"


async def test_downloads_continued_after_a_restart_are_recorded_as_recovery(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    hub.set_faults([Fault.rate(200_000)])
    async with Runtime(settings) as runtime:
        await runtime.downloader.start_download(TI2V)
        await asyncio.sleep(0.2)
    hub.clear_faults()
    async with Runtime(settings) as runtime:
        await runtime.restore()
        [entry] = await _records(runtime, "recovery")
        assert entry.action == _action(model_routes.start_download) and entry.model_id == TI2V
        assert (await runtime.downloader.wait_for_completion(TI2V)).success
