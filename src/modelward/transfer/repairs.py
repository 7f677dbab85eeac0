"""How the downloader answers the seed's ``verify_and_repair_model``.

Repair (a full check, quarantine, fetching only damaged blocks) is the health monitor's job,
a layer above transfer. The seed asks the downloader for it, so the downloader keeps a
:class:`Repairer` to hand the call to: the health monitor built on it attaches itself, and a
downloader used alone builds one through the factory the health layer registers here when
it is imported (``import modelward`` always imports it), so transfer never imports health.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from modelward.errors import ConfigError


class Repairer(Protocol):
    """What repairs a model's files in place (the health monitor)."""

    async def verify_and_repair_model(self, model_id: str) -> Any:
        """Fully check ``model_id`` and fetch again what is damaged or missing."""

    async def aclose(self) -> None:
        """Stop its background work."""


RepairerFactory = Callable[[Any], Repairer]
"""Builds a repairer on a downloader (with defaults from the downloader's settings)."""

_factories: list[RepairerFactory] = []


def register_repairer_factory(factory: RepairerFactory) -> None:
    """Let downloaders without a repairer build one with ``factory`` (the health layer)."""
    _factories[:] = [factory]


class RepairHook:
    """The repairer of one downloader: attached, or built on first use (and then owned)."""

    def __init__(self, downloader: object) -> None:
        self._downloader = downloader
        self._repairer: Repairer | None = None
        self._owned = False

    def attach(self, repairer: Repairer) -> None:
        """Use ``repairer`` (the first one attached wins: the monitor built on this downloader)."""
        if self._repairer is None:
            self._repairer = repairer

    def get(self) -> Repairer:
        """The attached repairer, else one built now with the registered factory."""
        if self._repairer is None:
            if not _factories:
                raise ConfigError(
                    "no repairer for this downloader",
                    hint="import modelward (or build a ModelHealthMonitor on the downloader)",
                )
            self._repairer = _factories[0](self._downloader)
            self._owned = True
        return self._repairer

    async def aclose(self) -> None:
        """Close a repairer this hook built (an attached one belongs to whoever built it)."""
        if self._owned and self._repairer is not None:
            await self._repairer.aclose()
        self._repairer, self._owned = None, False
