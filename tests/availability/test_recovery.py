"""EnhancedErrorRecovery: each of the seed's error categories, caused for real (local hub
faults, damaged and deleted files, a full disk, slow and failing jobs), and the action
taken checked."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

from modelward.actions import Action, Step
from modelward.availability import (
    ErrorCategory,
    ErrorContext,
    FallbackType,
    GenerationRequirements,
    RecoveryAction,
)
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.events import Event, EventType
from modelward.health import GenerationMetrics
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus as State
from tests.conftest import TI2V, TI2V_REPO, make_settings, sha256_of, small_disk

T2V = "t2v-a14b"


def _biggest(hub: DevHub) -> str:
    return max(hub.manifest(TI2V_REPO).files, key=lambda f: f.size).path


async def _until_available(runtime: Runtime, model_id: str = TI2V, timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (await runtime.availability.status(model_id)).is_available:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def _downloaded(runtime: Runtime) -> Path:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    status = await runtime.availability.status(TI2V)
    assert status.local_path is not None
    return Path(status.local_path)


async def test_network_failures_are_retried_with_backoff(runtime: Runtime, hub: DevHub) -> None:
    hub.set_faults(FaultPlan([Fault.http_status(503, times=2, path_glob="*model_index.json")]))
    events: list[Event] = []
    runtime.bus.subscribe(lambda e: events.append(e) if e.type == EventType.RECOVERY else None)
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.NETWORK)
    )
    assert result.action is RecoveryAction.RETRY_WITH_BACKOFF and result.success
    done = await runtime.downloader.wait_for_completion(TI2V)
    assert done.success and done.total_retries == 2
    assert [e.data["action"] for e in events] == ["retry-with-backoff"]


async def test_when_every_retry_fails_the_answer_is_the_manual_steps(
    tmp_path: Path, hub: DevHub
) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=1)) as runtime:
        hub.set_faults(FaultPlan([Fault.http_status(503)]))
        assert not (await runtime.downloader.download_with_retry(TI2V, max_retries=1)).success
        # The facts say "network": no category needed from the app.
        result = await runtime.recovery.handle_model_unavailable(TI2V)
        assert result.category is ErrorCategory.NETWORK
        assert result.action is RecoveryAction.MANUAL_STEPS and not result.success
        steps = " ".join(s.text for s in result.steps)
        assert hub.url in steps and "HF_ENDPOINT" in steps and "HTTPS_PROXY" in steps
        assert f"hf download {TI2V_REPO}" in steps
        actions = [(s.action, s.model_id) for s in result.steps if s.action]
        assert actions == [(Action.DOWNLOAD, TI2V), (Action.VERIFY, TI2V)]
        assert "after 1 retries" in result.message and "still does not answer" in result.message


async def test_an_interrupted_download_is_resumed_from_its_bytes(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    async with Runtime(settings) as first:
        await first.downloader.start_download(TI2V)
        while (await first.downloader.get_download_progress(TI2V)).downloaded_bytes < 300_000:
            await asyncio.sleep(0.02)
    hub.clear_faults()
    async with Runtime(settings) as runtime:  # the process died; nothing restored it yet
        result = await runtime.recovery.handle_model_unavailable(TI2V)
        assert result.category is ErrorCategory.PARTIAL_DOWNLOAD
        assert result.action is RecoveryAction.RESUME_DOWNLOAD and result.success
        assert (await runtime.downloader.wait_for_completion(TI2V)).success


async def test_a_partial_download_resumes_from_its_bytes(runtime: Runtime, hub: DevHub) -> None:
    hub.set_faults(FaultPlan([Fault.rate(200_000)]))
    await runtime.downloader.start_download(TI2V)
    while (await runtime.downloader.get_download_progress(TI2V)).downloaded_bytes < 300_000:
        await asyncio.sleep(0.02)
    assert await runtime.downloader.pause_download(TI2V)
    hub.clear_faults()
    hub.clear_log()
    # Paused by a person: recovery leaves it paused and says how to go on.
    left = await runtime.recovery.handle_model_unavailable(TI2V)
    assert left.action is RecoveryAction.MANUAL_STEPS and not left.success
    assert left.steps == (Step(f"resume {TI2V} to continue it", Action.RESUME, TI2V),)
    assert not runtime.downloader.is_running(TI2V)
    # The app reports the partial download itself: resume from the bytes on disk.
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.PARTIAL_DOWNLOAD)
    )
    assert result.category is ErrorCategory.PARTIAL_DOWNLOAD
    assert result.action is RecoveryAction.RESUME_DOWNLOAD and result.success
    assert result.details["resumed_from_bytes"] >= 300_000
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    sent = sum(r.bytes_sent for r in hub.request_log if r.method == "GET")
    assert sent <= hub.manifest(TI2V_REPO).total_size - 300_000 + 64 * 1024


async def test_a_corrupted_download_is_fetched_again_and_verified(
    runtime: Runtime, hub: DevHub
) -> None:
    big = _biggest(hub)
    hub.set_faults(FaultPlan([Fault.corrupt(1000, 1010, path_glob="*" + big, times=1)]))
    failed = await runtime.downloader.download_with_retry(TI2V, max_retries=0)
    assert failed.error_code == "integrity-mismatch"
    result = await runtime.recovery.handle_model_unavailable(TI2V)
    assert result.category is ErrorCategory.CORRUPTED_DOWNLOAD
    assert result.action is RecoveryAction.REDOWNLOAD_VERIFIED and result.success
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    snapshot = Path((await runtime.availability.status(TI2V)).local_path or "")
    assert sha256_of(snapshot / big) == hub.manifest(TI2V_REPO).file(big).content_sha256


async def test_a_full_disk_gets_a_cleanup_plan_then_the_retry(tmp_path: Path, hub: DevHub) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        settings = make_settings(tmp_path, hub.url, cache_dir=disk / "cache")
        async with Runtime(settings) as runtime:
            failed = await runtime.downloader.download_with_retry(TI2V)
            assert failed.error_code == "insufficient-space"
            full = await runtime.recovery.handle_model_unavailable(TI2V)
            assert full.category is ErrorCategory.STORAGE_FULL
            assert full.action is RecoveryAction.SUGGEST_CLEANUP and not full.success
            assert full.details["needed_bytes"] > full.details["free_bytes"]
            words = [s.text for s in full.steps]
            assert any(re.match(r"free [\d.]+ [kMG]B on the disk", step) for step in words)
            assert any("--cache-dir" in step for step in words)
            assert (full.steps[-1].action, full.steps[-1].model_id) == (Action.DOWNLOAD, TI2V)

            size = hub.manifest(TI2V_REPO).total_size + 4_000_000
            grown = subprocess.run(
                ["mount", "-o", f"remount,size={size}", str(disk)], capture_output=True
            )
            assert grown.returncode == 0, grown.stderr
            room = await runtime.recovery.handle_model_unavailable(
                TI2V, ErrorContext(category=ErrorCategory.STORAGE_FULL)
            )
            assert room.action is RecoveryAction.RETRY_WITH_BACKOFF and room.success
            assert (await runtime.downloader.wait_for_completion(TI2V)).success


async def test_missing_files_are_fetched_alone(runtime: Runtime, hub: DevHub) -> None:
    snapshot = await _downloaded(runtime)
    big = _biggest(hub)
    (snapshot / big).resolve().unlink()
    hub.clear_log()
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.LOAD_FAILED, error_message="no such file")
    )
    assert result.category is ErrorCategory.MISSING_FILES
    assert result.action is RecoveryAction.TARGETED_REDOWNLOAD and result.details["files"] == [big]
    assert (await runtime.downloader.wait_for_completion(TI2V)).success
    files = {r.path for r in hub.request_log if r.method == "GET" and "/api/" not in r.path}
    sha = hub.manifest(TI2V_REPO).file(big).content_sha256
    assert files and all(p.endswith(big) or p.endswith(sha) for p in files), files


async def test_corruption_at_load_is_repaired(runtime: Runtime, hub: DevHub) -> None:
    snapshot = await _downloaded(runtime)
    big = _biggest(hub)
    blob = (snapshot / big).resolve()
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(50)
        fh.write(b"\0" * 8)
    await runtime.health.detect_corruption(TI2V)
    result = await runtime.recovery.handle_model_unavailable(TI2V)
    assert result.category is ErrorCategory.CORRUPTION_AT_LOAD
    assert result.action is RecoveryAction.REPAIR and result.success
    await runtime.health.join_background()
    await _until_available(runtime)
    assert sha256_of(blob) == hub.manifest(TI2V_REPO).file(big).content_sha256


async def test_a_version_mismatch_offers_the_update_without_switching(
    runtime: Runtime, hub: DevHub
) -> None:
    await _downloaded(runtime)
    before = (await runtime.availability.status(TI2V)).current_version
    new = hub.bump_commit(TI2V_REPO)
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.VERSION_MISMATCH, expected_revision=new)
    )
    assert result.action is RecoveryAction.OFFER_VERSION_CHANGE and not result.success
    assert result.details == {"current": before, "expected": new, "latest": new}
    assert new in result.steps[0].text and result.steps[0].action is Action.UPDATE
    assert f"keep {before[:12]}" in result.steps[1].text and result.steps[1].action is None
    assert (await runtime.availability.status(TI2V)).current_version == before


async def test_too_little_gpu_memory_gets_offload_or_a_model_that_fits(
    runtime: Runtime,
) -> None:
    await _downloaded(runtime)
    spec = runtime.catalog.get(TI2V)
    assert spec.vram_min_gb is not None
    job = GenerationRequirements(vram_gb=spec.vram_min_gb)
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(job, ErrorCategory.VRAM_INSUFFICIENT, "CUDA out of memory")
    )
    assert result.action is RecoveryAction.REDUCE_OR_ALTERNATIVE and result.success
    assert result.strategy is not None
    assert result.strategy.strategy_type is FallbackType.REDUCE_REQUIREMENTS
    assert any("offload" in step.text for step in result.steps)


async def test_slow_generation_gets_a_health_check_and_suggestions(runtime: Runtime) -> None:
    await _downloaded(runtime)
    for seconds in [10.0] * 12 + [40.0] * 8:
        await runtime.health.monitor_model_performance(TI2V, GenerationMetrics(seconds, True))
    checks_before = len(runtime.health.history.recent(TI2V))
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.SLOW_GENERATION)
    )
    assert result.action is RecoveryAction.HEALTH_CHECK and result.success
    assert result.details["integrity_healthy"] and result.details["performance_status"] != "healthy"
    assert result.steps and len(runtime.health.history.recent(TI2V)) == checks_before + 1
    assert {(s.action, s.model_id) for s in result.steps} == {(Action.VERIFY_FULL, TI2V)}


async def test_quality_issues_verify_every_byte_and_repair_what_is_found(
    runtime: Runtime, hub: DevHub
) -> None:
    snapshot = await _downloaded(runtime)
    big = _biggest(hub)
    blob = (snapshot / big).resolve()
    stat = blob.stat()
    blob.chmod(0o644)
    with blob.open("r+b") as fh:  # bit rot: same size, same times, wrong bytes
        fh.seek(stat.st_size // 2)
        fh.write(b"\x55" * 4)
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    clean = await runtime.recovery.handle_model_unavailable(
        T2V, ErrorContext(category=ErrorCategory.QUALITY_ISSUES)
    )
    assert clean.action is RecoveryAction.VERIFY_INTEGRITY  # nothing of T2V here to verify
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.QUALITY_ISSUES)
    )
    assert result.action is RecoveryAction.VERIFY_INTEGRITY and result.success
    assert result.details == {"damaged_files": [big], "repair_started": True}
    await runtime.health.join_background()
    await _until_available(runtime)
    assert sha256_of(blob) == hub.manifest(TI2V_REPO).file(big).content_sha256


async def test_frequent_failures_recommend_a_replacement(runtime: Runtime) -> None:
    await _downloaded(runtime)
    for ok in [True] * 10 + [False] * 10:
        await runtime.health.monitor_model_performance(
            TI2V, GenerationMetrics(5.0, ok, error=None if ok else "NaN in latents")
        )
    result = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.FREQUENT_FAILURES)
    )
    assert result.action is RecoveryAction.RECOMMEND_REPLACEMENT and result.success
    assert result.details["replacement"] in (T2V, "i2v-a14b")
    assert result.details["failure_rate"] >= 0.5 and result.details["integrity_healthy"]
    replacement = result.details["replacement"]
    assert result.steps[-1].text.startswith(f"try {replacement}")
    assert (result.steps[-1].action, result.steps[-1].model_id) == (Action.DOWNLOAD, replacement)


async def test_no_model_at_all_gives_setup_instructions(tmp_path: Path, hub: DevHub) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=0)) as runtime:
        await hub.stop()
        result = await runtime.recovery.handle_model_unavailable(T2V)
        assert result.action is RecoveryAction.SETUP_INSTRUCTIONS and not result.success
        assert result.strategy is not None
        assert result.strategy.strategy_type is FallbackType.MOCK_GENERATION
        steps = " ".join(s.text for s in result.steps)
        assert (Action.DOWNLOAD, TI2V) in [(s.action, s.model_id) for s in result.steps]
        assert Action.DEMO in [s.action for s in result.steps]
        assert str(runtime.settings.cache_dir) in steps


async def test_an_available_model_needs_nothing(runtime: Runtime) -> None:
    await _downloaded(runtime)
    result = await runtime.recovery.handle_model_unavailable(TI2V)
    assert result.action is RecoveryAction.NOTHING_TO_DO and result.success
    assert (await runtime.availability.status(TI2V)).availability_status is State.AVAILABLE
