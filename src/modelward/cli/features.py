"""The "features off" line the status commands print when enhancements are switched off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelward.cli.discovery import TIMEOUT_S, find_service
from modelward.cli.output import console
from modelward.errors import ServiceNotRunningError
from modelward.overrides import with_overrides

if TYPE_CHECKING:
    from modelward.settings import Settings


def features_off(settings: Settings) -> list[str]:
    """The enhancements switched off: the running service's (changes made while it runs
    count), else those the environment and the kept settings name."""
    try:
        find_service(settings.home)  # before importing the client: none runs, mostly
        from modelward.cli.client import ServiceClient

        with ServiceClient.discover(settings, TIMEOUT_S) as client:
            return client.healthz().features_off
    except ServiceNotRunningError:
        return with_overrides(settings).features_off


def print_features_off(names: list[str]) -> None:
    """One line naming the features switched off; nothing when all are on."""
    if names:
        console.print(f"features off: {', '.join(names)}", highlight=False)
