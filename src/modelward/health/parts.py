"""What a health monitor works with, for the seed's ``ModelHealthMonitor()``: whatever the
caller did not give is built from settings, the way the service builds it."""

from __future__ import annotations

from dataclasses import dataclass

from modelward.health.pickles import PickleScreen
from modelward.health.quarantine import Quarantine
from modelward.settings import Settings
from modelward.store.manager import ModelManager
from modelward.transfer import EnhancedModelDownloader, ModelDownloader
from modelward.transfer.base import default_settings


@dataclass(frozen=True, slots=True)
class MonitorParts:
    """The store, downloader and quarantine a monitor uses, and the settings behind them."""

    manager: ModelManager
    downloader: EnhancedModelDownloader
    quarantine: Quarantine
    settings: Settings
    owns_downloader: bool
    """True when built here: the monitor closes it."""

    @classmethod
    def build(
        cls,
        manager: ModelManager | None,
        downloader: EnhancedModelDownloader | None,
        quarantine: Quarantine | None,
    ) -> MonitorParts:
        """The parts given, the rest from the downloader's settings (or the environment's
        when no downloader is given either)."""
        settings = downloader.settings if downloader is not None else default_settings()
        quarantine = quarantine or Quarantine(
            settings.home, settings.quarantine_cap_bytes, settings.cache_dir
        )
        owns = downloader is None
        if downloader is None:
            base = ModelDownloader(manager, settings=settings)
            downloader = EnhancedModelDownloader(base, screen=PickleScreen(quarantine))
        return cls(manager or downloader.manager, downloader, quarantine, settings, owns)
