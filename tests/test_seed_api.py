"""The seed's four test functions (SEED-DESIGN.md, "Testing Strategy"), run as written.

Each body is the seed's, statement for statement, with only its imports from ``modelward``;
the names it uses without defining them (``base_downloader``, ``downloader``,
``availability_manager``, ``enhanced_downloader``, ``mock_network_failures``,
``corrupt_model_file``) are fixtures here, built against the local hub on a real store.
Nothing of modelward is mocked: "network failures" are connections the hub drops, and
"corruption" is bytes flipped in a real blob.

``test-model`` and ``large-model`` are entries of a catalog file written for these tests,
served by the local hub (the TI2V-5B and T2V-A14B repos at the hub's tiny scale);
``t2v-a14b``, ``i2v-a14b`` and ``ti2v-5b`` are the built-in entries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from modelward import (
    EnhancedErrorRecovery,
    EnhancedModelDownloader,
    FallbackRecoverySystem,
    GenerationRequirements,
    IntelligentFallbackManager,
    ModelAvailabilityManager,
    ModelDownloader,
    ModelHealthMonitor,
    ModelUsageAnalytics,
    Settings,
)
from modelward.devhub import DevHub, Fault, FaultPlan
from tests.conftest import make_settings

SEED_CATALOG = """\
[models.test-model]
display_name = "A small model the seed's tests download"
repo = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
revision = "main"

[models.large-model]
display_name = "A model whose download the seed's test pauses and resumes"
repo = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
revision = "main"
"""


@pytest.fixture
def seed_settings(tmp_path: Path, hub: DevHub, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """This test's store, the seed catalog and the local hub; the environment says the same,
    so a seed constructor given nothing (``ModelHealthMonitor()``) uses them too."""
    catalog = tmp_path / "seed-catalog.toml"
    catalog.write_text(SEED_CATALOG, encoding="utf-8")
    settings = make_settings(tmp_path, hub.url, catalog_files=(catalog,))
    monkeypatch.setenv("HF_HUB_CACHE", str(settings.cache_dir))
    monkeypatch.setenv("MODELWARD_HOME", str(settings.home))
    monkeypatch.setenv("MODELWARD_CATALOG", str(catalog))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    return settings


@pytest.fixture
async def base_downloader(seed_settings: Settings) -> AsyncIterator[ModelDownloader]:
    """The seed's base ModelDownloader: one file over HTTP, no policy."""
    base = ModelDownloader(settings=seed_settings)
    yield base
    await base.aclose()


@pytest.fixture
async def downloader(base_downloader: ModelDownloader) -> AsyncIterator[EnhancedModelDownloader]:
    """The seed's EnhancedModelDownloader, built as the seed builds it."""
    enhanced = EnhancedModelDownloader(base_downloader)
    yield enhanced
    await enhanced.aclose()


@pytest.fixture
def enhanced_downloader(downloader: EnhancedModelDownloader) -> EnhancedModelDownloader:
    """The seed's name for the downloader in its health test."""
    return downloader


@pytest.fixture
async def availability_manager(
    base_downloader: ModelDownloader, downloader: EnhancedModelDownloader
) -> AsyncIterator[ModelAvailabilityManager]:
    """The seed's ModelAvailabilityManager(model_manager, downloader), on a store where one
    alternative to T2V-A14B, ti2v-5b, is downloaded and ready."""
    assert (await downloader.download_with_retry("ti2v-5b")).success
    manager = ModelAvailabilityManager(base_downloader.manager, downloader)
    yield manager
    await manager.aclose()


@pytest.fixture
def mock_network_failures(hub: DevHub) -> Callable[..., contextlib.AbstractContextManager[None]]:
    """Not a mock of modelward: inside the block the local hub closes the next
    ``failure_count`` connections that carry file bytes before sending any, then serves
    normally."""

    @contextlib.contextmanager
    def network_failures(failure_count: int) -> Iterator[None]:
        hub.set_faults(FaultPlan([Fault.drop(0, times=failure_count)]))
        try:
            yield
        finally:
            hub.clear_faults()

    return network_failures


@pytest.fixture
async def large_model_interrupted(seed_settings: Settings, hub: DevHub) -> None:
    """A store where an earlier run's download of large-model stopped mid-way (its partial
    data on disk): the seed's test then recovers a real partial download."""
    hub.set_faults(FaultPlan([Fault.rate(500_000)]))
    earlier = EnhancedModelDownloader(ModelDownloader(settings=seed_settings))
    try:
        await earlier.start_download("large-model")
        while (await earlier.get_download_progress("large-model")).downloaded_bytes < 300_000:
            await asyncio.sleep(0.02)
        assert await earlier.pause_download("large-model")
    finally:
        await earlier.aclose()
        hub.clear_faults()


@pytest.fixture
async def corrupt_model_file(
    enhanced_downloader: EnhancedModelDownloader, hub: DevHub
) -> Callable[[str], Path]:
    """Downloads test-model; returns the seed's helper, which flips 16 bytes in the middle
    of a model's largest file on disk (its blob, so the size stays and only a hash can
    tell) and returns that file."""
    assert (await enhanced_downloader.download_with_retry("test-model")).success

    def corrupt(model_id: str) -> Path:
        spec = enhanced_downloader.manager.spec(model_id)
        manifest = hub.manifest(spec.repo)
        largest = max(manifest.files, key=lambda f: f.size)
        layout = enhanced_downloader.manager.repo_layout(spec.repo)
        blob = layout.snapshot_path(manifest.commit, largest.path).resolve()
        blob.chmod(0o644)
        with blob.open("r+b") as fh:
            fh.seek(largest.size // 2)
            flipped = bytes(b ^ 0xFF for b in fh.read(16))
            fh.seek(largest.size // 2)
            fh.write(flipped)
        return blob

    return corrupt


async def test_the_seed_constructors_build_one_modelward_from_settings(
    seed_settings: Settings,
) -> None:
    # Given nothing, each reads the environment (and settings.json) as the service does;
    # built on one another, they share the downloader's store, database and event bus.
    base = ModelDownloader()
    downloader = EnhancedModelDownloader(base)
    availability = ModelAvailabilityManager(base.manager, downloader)
    fallback = IntelligentFallbackManager(availability)
    recovery = EnhancedErrorRecovery(FallbackRecoverySystem(fallback), fallback)
    try:
        assert base.settings.cache_dir == seed_settings.cache_dir
        assert base.endpoint == seed_settings.endpoint
        assert "test-model" in base.manager.catalog
        assert availability.health.downloader is downloader
        assert availability.health.bus is downloader.bus
        assert availability.answers_requests  # the fallback side answers handle_model_request
        assert recovery.base_recovery.fallback is fallback
        result = await recovery.handle_model_unavailable("ti2v-5b")
        assert result.model_id == "ti2v-5b"
        await availability.health.schedule_health_checks()  # starts, then returns
        assert availability.health.scheduling
        monitor = ModelHealthMonitor()
        assert monitor.manager.cache_dir == seed_settings.cache_dir
        await monitor.aclose()
        report = await ModelUsageAnalytics().generate_usage_report()
        assert {"test-model", "large-model"} <= {m.model_id for m in report.models}
    finally:
        await availability.aclose()
        await downloader.aclose()


# The seed's tests. Their bodies are the seed's own; the parameters name their fixtures.


async def test_download_retry_logic(
    base_downloader: ModelDownloader,
    mock_network_failures: Callable[..., contextlib.AbstractContextManager[None]],
) -> None:
    # Test retry with exponential backoff
    downloader = EnhancedModelDownloader(base_downloader)

    # Simulate network failures
    with mock_network_failures(failure_count=2):
        result = await downloader.download_with_retry("test-model", max_retries=3)
        assert result.success
        assert result.total_retries == 2


async def test_partial_download_recovery(
    downloader: EnhancedModelDownloader, large_model_interrupted: None
) -> None:
    # Test resuming interrupted downloads
    await downloader.start_download("large-model")
    await downloader.pause_download("large-model")

    progress_before = await downloader.get_download_progress("large-model")  # noqa: F841
    await downloader.resume_download("large-model")

    result = await downloader.wait_for_completion("large-model")
    assert result.success


async def test_intelligent_fallback(availability_manager: ModelAvailabilityManager) -> None:
    # Test smart model alternatives
    fallback_manager = IntelligentFallbackManager(availability_manager)

    suggestion = await fallback_manager.suggest_alternative_model(
        requested_model="t2v-a14b",
        requirements=GenerationRequirements(quality="high", speed="medium"),
    )

    assert suggestion.suggested_model in ["i2v-a14b", "ti2v-5b"]
    assert suggestion.compatibility_score > 0.7


async def test_corruption_detection(
    corrupt_model_file: Callable[[str], Path], enhanced_downloader: EnhancedModelDownloader
) -> None:
    # Test automatic corruption detection and repair
    health_monitor = ModelHealthMonitor()

    # Simulate file corruption
    corrupt_model_file("test-model")

    integrity_result = await health_monitor.check_model_integrity("test-model")
    assert not integrity_result.is_healthy
    assert "corruption" in integrity_result.issues

    # Test automatic repair
    repair_result = await enhanced_downloader.verify_and_repair_model("test-model")
    assert repair_result.success
