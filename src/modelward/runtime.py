"""The composition root: builds catalog, store, sources and downloader from Settings.

The CLI, the service and tests all go through here, so every entry point wires the
layers the same way.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from modelward.analytics import ModelUsageAnalytics, UsageLog
from modelward.availability import (
    EnhancedErrorRecovery,
    IntelligentFallbackManager,
    ModelAvailabilityManager,
    ModelIntegrationBridge,
    RequestQueue,
    StorageWatch,
    VramProbe,
)
from modelward.catalog import Catalog, load_catalog
from modelward.catalog.remembered import RememberedEntries
from modelward.db import Database
from modelward.events import EventBus
from modelward.health import HealthPolicy, ModelHealthMonitor, PickleScreen, Quarantine
from modelward.ops import AuditLog
from modelward.overrides import save_change, with_overrides
from modelward.settings import Settings
from modelward.sources import build_clients
from modelward.store import ModelManager
from modelward.transfer import EnhancedModelDownloader, RetryPolicy
from modelward.updates import ModelUpdater, UpdatePolicy, UpdatePolicySettings


class Runtime:
    """One wired-up modelward: use as ``async with Runtime(settings) as rt``."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        settings = with_overrides(settings)
        self.settings = settings
        self.remembered = RememberedEntries.in_home(settings.home)
        self.catalog = catalog or load_catalog(
            settings.catalog_files, env={}, remembered=self.remembered.path
        )
        self.bus = EventBus()
        self.db = Database(settings.effective_database_url)
        self.audit = AuditLog(self.db, settings.audit_retention_days)
        self.manager = ModelManager(self.catalog, settings.cache_dir, settings.home)
        self.clients = build_clients(
            connect_timeout_s=settings.connect_timeout_s, read_timeout_s=settings.read_timeout_s
        )
        self.quarantine = Quarantine(
            settings.home, settings.quarantine_cap_bytes, settings.cache_dir
        )
        self.downloader = EnhancedModelDownloader(
            self.manager,
            self.clients,
            endpoint=settings.endpoint,
            hf_token=settings.hf_token,
            offline=settings.offline,
            policy=RetryPolicy(
                max_retries=settings.max_retries,
                base_delay_s=settings.retry_base_delay_s,
                max_delay_s=settings.retry_max_delay_s,
            ),
            connections=settings.connections,
            connections_per_file=settings.connections_per_file,
            segment_bytes=settings.segment_bytes,
            bandwidth_limit_bytes_per_s=settings.bandwidth_limit_bytes_per_s,
            bus=self.bus,
            db=self.db,
            screen=PickleScreen(self.quarantine),
        )
        self.health = ModelHealthMonitor(
            self.manager,
            self.downloader,
            self.quarantine,
            db=self.db,
            bus=self.bus,
            policy=HealthPolicy.from_settings(settings),
        )
        self.requests = RequestQueue(self.db, self.bus)
        self.requests.watch()
        self.analytics = ModelUsageAnalytics(self.db, lambda: list(self.catalog.ids()))
        UsageLog(self.db).backfill_from_generations()
        self.availability = ModelAvailabilityManager(
            self.downloader, self.health, self.requests, self.analytics, bus=self.bus
        )
        self.availability.watch()
        self.fallback = IntelligentFallbackManager(
            self.availability,
            vram=VramProbe(settings.vram_gb),
            unhashed_tail_bytes=settings.connections_per_file * settings.segment_bytes,
        )
        # The fallback side answers the manager's handle_model_request (no import back up).
        self.availability.attach_request_handler(self.fallback.handle_model_request)
        self.updater = ModelUpdater(
            self.downloader,
            bus=self.bus,
            defaults=UpdatePolicySettings(
                UpdatePolicy(settings.update_policy),
                settings.keep_previous_successes,
                settings.rollback_after_failures,
            ),
        )
        self.recovery = EnhancedErrorRecovery(self.fallback, self.updater)
        self.storage = StorageWatch(
            self.availability,
            low_space_bytes=settings.low_space_bytes,
            unused_after_days=settings.unused_after_days,
        )
        self.downloader.attach_space_advisor(self.availability.space_advice)
        self.analytics.attach_cleanup_planner(self.availability.recommend_cleanup)
        self.bridge = ModelIntegrationBridge(self.availability, self.updater, self.analytics)

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
        await self.downloader.restore_queue()
        await self.updater.restore()
        await self.fallback.restore_requests()

    def start_background(self) -> None:
        """Start what the service runs on its own: health checks, update checks and the
        disk watch (call from inside the event loop)."""
        self.health.schedule_health_checks()
        self.updater.schedule_checks(self.settings.update_check_interval_s)
        self.storage.watch()

    async def change_settings(self, changes: dict[str, Any]) -> Settings:
        """Change behaviour while running (kept for later starts): automation, schedules,
        thresholds, policies. Invalid values raise ConfigError and change nothing."""
        settings = await asyncio.to_thread(save_change, self.settings, changes)
        self.settings = settings
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

    async def set_bandwidth_limit(self, limit_bytes_per_s: int) -> None:
        """Cap the total download rate now and for later starts (in settings.json, where
        `modelward limit` keeps it when no service runs); 0 = unlimited."""
        changes = {"bandwidth_limit_bytes_per_s": limit_bytes_per_s}
        self.settings = await asyncio.to_thread(save_change, self.settings, changes)
        await self.downloader.set_rate_limit(limit_bytes_per_s)

    async def aclose(self) -> None:
        """Stop checks, repairs and running downloads (their partial data and queue entries
        stay) and close."""
        await self.storage.aclose()
        await self.updater.aclose()
        await self.availability.aclose()
        await self.health.aclose()
        await self.downloader.aclose()
        await self.clients.aclose()
        self.db.close()
