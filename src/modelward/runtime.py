"""The composition root: builds catalog, store, sources and downloader from Settings.

The CLI, the service and tests all go through here, so every entry point wires the
layers the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from modelward.analytics import ModelUsageAnalytics, UsageLog
from modelward.analytics.operations import OperationsLog
from modelward.availability import (
    EnhancedErrorRecovery,
    FallbackFeatures,
    FallbackRecoverySystem,
    IntelligentFallbackManager,
    ModelAvailabilityManager,
    ModelIntegrationBridge,
    RequestQueue,
    StorageWatch,
    VramProbe,
)
from modelward.catalog import Catalog
from modelward.catalog.remembered import RememberedEntries
from modelward.db import Database
from modelward.events import EventBus
from modelward.fleet import FleetNode, NodeParts, Workers
from modelward.health import HealthPolicy, ModelHealthMonitor, PickleScreen, Quarantine
from modelward.mirror.auto import AutoPublisher
from modelward.ops import AuditLog
from modelward.ops.selfstarted import RECOVERY, START_DOWNLOAD, record_self_started
from modelward.overrides import save_change, with_overrides
from modelward.settings import Settings
from modelward.sources import build_clients
from modelward.status import ModelAvailabilityStatus
from modelward.store import ModelManager
from modelward.store.space import free_bytes
from modelward.transfer import (
    DownloadStatus,
    EnhancedModelDownloader,
    ModelDownloader,
)
from modelward.transfer.base import catalog_for
from modelward.transfer.features import apply_transfer_features, unhashed_tail_bytes
from modelward.updates import ModelUpdater, UpdatePolicy, UpdatePolicySettings

if TYPE_CHECKING:
    from modelward.ops.metrics import MetricsProbes, ServiceMetrics


class Runtime:
    """One wired-up modelward: use as ``async with Runtime(settings) as rt``."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        settings = with_overrides(settings)
        self.settings = settings
        self.remembered = RememberedEntries.in_home(settings.home)
        self.catalog = catalog or catalog_for(settings)
        self.bus = EventBus()
        self.db = Database(settings.effective_database_url, node=settings.node_name)
        self.audit = AuditLog(self.db, settings.audit_retention_days)
        # Each layer is built on the ones before it, lowest first.
        self._build_store_and_transfer(settings)
        self._build_health(settings)
        self._build_availability(settings)
        self._build_updates(settings)
        self._build_ops(settings)
        self._build_fleet(settings)
        # Pushes what the service pulled to the team mirror (MODELWARD_MIRROR_PUBLISH).
        self.publisher = AutoPublisher(
            lambda: self.settings,
            self.manager,
            self.bus,
            self.audit,
            team=self.downloader.mirrored.leases is not None,
        )
        self._apply_features(settings)

    def _build_store_and_transfer(self, settings: Settings) -> None:
        """The store, the source clients, the quarantine and the downloader."""
        self.manager = ModelManager(self.catalog, settings.cache_dir, settings.home)
        self.clients = build_clients(
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            stall_timeout_s=settings.stall_timeout_s,
        )
        self.quarantine = Quarantine(
            settings.home, settings.quarantine_cap_bytes, settings.cache_dir
        )
        # Policy, connections, segments and the cap come from the base's settings.
        self.downloader = EnhancedModelDownloader(
            ModelDownloader(self.manager, self.clients, settings=settings),
            bus=self.bus,
            db=self.db,
            screen=PickleScreen(self.quarantine),
        )

    def _build_health(self, settings: Settings) -> None:
        """The health monitor (checks, repairs), recording what it starts by itself."""
        self.health = ModelHealthMonitor(
            self.manager,
            self.downloader,
            self.quarantine,
            db=self.db,
            bus=self.bus,
            policy=HealthPolicy.from_settings(settings),
        )
        self.health.audit = self.audit

    def _build_availability(self, settings: Settings) -> None:
        """Requests, usage analytics, the availability manager and the fallback side."""
        self.requests = RequestQueue(self.db, self.bus)
        self.requests.watch()
        self.analytics = ModelUsageAnalytics(self.db, lambda: list(self.catalog.ids()))
        UsageLog(self.db).backfill_from_generations()
        self.availability = ModelAvailabilityManager(
            self.manager,
            self.downloader,
            health=self.health,
            requests=self.requests,
            analytics=self.analytics,
            bus=self.bus,
        )
        self.availability.watch()
        self.fallback = IntelligentFallbackManager(
            self.availability,
            vram=VramProbe(settings.vram_gb),
            unhashed_tail_bytes=unhashed_tail_bytes(settings),
        )
        # The fallback side answers the manager's handle_model_request (no import back up).
        self.availability.attach_request_handler(self.fallback.handle_model_request)

    def _build_updates(self, settings: Settings) -> None:
        """The updater and the error recovery that uses it."""
        self.updater = ModelUpdater(
            self.downloader,
            bus=self.bus,
            defaults=UpdatePolicySettings(
                UpdatePolicy(settings.update_policy),
                settings.keep_previous_successes,
                settings.rollback_after_failures,
            ),
            audit=self.audit,
        )
        self.recovery = EnhancedErrorRecovery(
            FallbackRecoverySystem(self.fallback, self.updater), self.fallback
        )

    def _build_ops(self, settings: Settings) -> None:
        """The disk watch, the links back down (space advice, cleanup planning), the bridge,
        the operations log; the metrics are built on first use (:attr:`metrics`)."""
        self.storage = StorageWatch(
            self.availability,
            low_space_bytes=settings.low_space_bytes,
            unused_after_days=settings.unused_after_days,
        )
        self.downloader.attach_space_advisor(self.availability.space_advice)
        self.analytics.attach_cleanup_planner(self.availability.recommend_cleanup)
        self.bridge = ModelIntegrationBridge(self.availability, self.updater, self.analytics)
        self.operations = OperationsLog(
            self.db, self.bus, enabled=lambda: self.settings.feature_usage_analytics
        )
        self._metrics: ServiceMetrics | None = None

    def _build_fleet(self, settings: Settings) -> None:
        """This service as a node of the fleet (it beats and polls once the service starts:
        :meth:`start_background`)."""
        workers = Workers(self.downloader, self.updater, self.health, self.availability, self.audit)
        self.fleet = FleetNode(
            NodeParts(settings, self.db, self.catalog, self.bus, self.availability, workers)
        )

    @property
    def metrics(self) -> ServiceMetrics:
        """The Prometheus metrics, built on first use: they count from then on, so the
        service builds them as it starts; a command that serves nothing (``modelward status``)
        spends no time on prometheus_client."""
        if self._metrics is None:
            from modelward.ops.metrics import ServiceMetrics

            self._metrics = ServiceMetrics(self.bus, _metrics_probes(self))
        return self._metrics

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def restore(self) -> None:
        """Continue the download queue a previous run left, and its generation requests
        (the service does this at start)."""
        for entry in await self.downloader.restore_queue():
            if entry.status not in (DownloadStatus.PAUSED, DownloadStatus.FAILED):
                await record_self_started(self.audit, RECOVERY, START_DOWNLOAD, entry.model_id)
        await self.updater.restore()
        await self.fallback.restore_requests()

    async def start_background(self) -> None:
        """Start what the service runs on its own: health checks, update checks, the disk
        watch and the resolution of models never resolved; returns once they are scheduled."""
        await self.health.schedule_health_checks()
        self.updater.schedule_checks(self.settings.update_check_interval_s)
        self.storage.watch()
        self.resolve_in_background(self.catalog.ids())
        await self.fleet.start()  # registers this node, then beats and polls for actions
        self.publisher.start()

    def resolve_in_background(self, model_ids: Iterable[str]) -> None:
        """Ask upstream, in the background, for the files of those of ``model_ids`` never
        resolved here, so their statuses show the real size or the source's error (status
        reads never ask: availability/resolution.py). Like scheduled update checks, this is
        the service asking upstream on its own: not while update checks are switched off."""
        if self.settings.feature_update_checks:
            self.availability.resolution.request(model_ids)

    async def change_settings(self, changes: dict[str, Any]) -> Settings:
        """Change behaviour while running (kept for later starts): automation, schedules,
        thresholds, policies. Invalid values raise ConfigError and change nothing."""
        settings = await asyncio.to_thread(save_change, self.settings, changes)
        self.settings = settings
        self._apply_features(settings)
        await self.health.set_policy(HealthPolicy.from_settings(settings))
        self.updater.defaults = UpdatePolicySettings(
            UpdatePolicy(settings.update_policy),
            settings.keep_previous_successes,
            settings.rollback_after_failures,
        )
        await self.updater.reschedule(settings.update_check_interval_s)
        self.storage.low_space_bytes = settings.low_space_bytes
        self.storage.unused_after_days = settings.unused_after_days
        self.fallback.vram.setting_gb = settings.vram_gb
        return settings

    def _apply_features(self, settings: Settings) -> None:
        """Switch each enhancement on or off as ``settings`` say (at start and on every
        change; the health monitor's switches travel in its HealthPolicy)."""
        apply_transfer_features(self.downloader, settings)
        self.fallback.unhashed_tail_bytes = unhashed_tail_bytes(settings)
        self.fallback.features = FallbackFeatures(
            alternatives=settings.feature_alternative_suggestions,
            queueing=settings.feature_request_queueing,
            mock=settings.feature_mock_fallback,
        )
        self.analytics.enabled = settings.feature_usage_analytics
        self.availability.cleanup_suggestions = settings.feature_cleanup_suggestions
        self.updater.automatic_checks = settings.feature_update_checks

    async def set_bandwidth_limit(self, limit_bytes_per_s: int) -> None:
        """Cap the total download rate now and for later starts (in settings.json, where
        `modelward limit` keeps it when no service runs); 0 = unlimited."""
        changes = {"bandwidth_limit_bytes_per_s": limit_bytes_per_s}
        self.settings = await asyncio.to_thread(save_change, self.settings, changes)
        await self.downloader.set_rate_limit(limit_bytes_per_s)

    async def aclose(self) -> None:
        """Stop checks, repairs and running downloads (their partial data and queue entries
        stay) and close."""
        await self.fleet.aclose()
        await self.publisher.aclose()
        await self.storage.aclose()
        await self.updater.aclose()
        await self.availability.aclose()
        await self.health.aclose()
        await self.downloader.aclose()
        await self.clients.aclose()
        if self._metrics is not None:
            self._metrics.close()
        await self.operations.aclose()
        self.db.close()


def _metrics_probes(rt: Runtime) -> MetricsProbes:
    """What /metrics reads at scrape time: every model's state from the one status
    derivation (its kept facts: no database or disk work per model), the queue in memory and
    one statvfs."""
    from modelward.ops.metrics import MetricsProbes

    async def states() -> dict[str, int]:
        # Every state has its series (0 when no model is in it), so an alert on one exists
        # from the first scrape; hash_unknown=False: a scrape never reads file contents (a
        # file changed since it was verified counts as damaged, as the model.state events).
        counts = dict.fromkeys((s.value for s in ModelAvailabilityStatus), 0)
        for status in await rt.availability.statuses(hash_unknown=False):
            counts[status.availability_status.value] += 1
        return counts

    def source_host(model_id: str, path: str) -> str:
        spec = rt.catalog.get(model_id)
        if spec.source == "url":
            url = next((f.url for f in spec.files if f.path == path), "")
        else:
            url = spec.endpoint or rt.settings.endpoint
        return urlsplit(url).netloc or "unknown"

    return MetricsProbes(
        states=states,
        queue_length=lambda: len(rt.downloader.queue.entries()),
        disk_free_bytes=lambda: free_bytes(rt.settings.cache_dir),
        low_space_bytes=lambda: rt.storage.low_space_bytes,
        quarantine_bytes=rt.quarantine.used_bytes,
        source_host=source_host,
    )
