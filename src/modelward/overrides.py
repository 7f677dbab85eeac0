"""Settings a person changes while modelward runs (the dashboard, ``PATCH /settings``):
kept in ``MODELWARD_HOME/settings.json`` and applied over the environment at every start.

Only behaviour is editable here (automation, schedules, thresholds, policies); where the
store is and which hub it talks to stay with the environment, where they were chosen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from modelward.errors import ConfigError
from modelward.settings import FEATURES, Settings
from modelward.store.records import read_json, write_json_atomic

logger = logging.getLogger(__name__)

EDITABLE = (
    "automation",
    "health_check_interval_s",
    "health_check_level",
    "health_check_at_start",
    "update_policy",
    "update_check_interval_s",
    "low_space_bytes",
    "unused_after_days",
    "keep_previous_successes",
    "rollback_after_failures",
    "vram_gb",
    "bandwidth_limit_bytes_per_s",  # `modelward limit` with no service keeps it here
    *(f"feature_{name}" for name in FEATURES),
)


def overrides_path(home: Path) -> Path:
    """Where the changed settings are kept."""
    return home / "settings.json"


def load_overrides(home: Path) -> dict[str, Any]:
    """The settings changed earlier (nothing when the file is missing or unreadable)."""
    data = read_json(overrides_path(home))
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in EDITABLE}


def with_overrides(settings: Settings) -> Settings:
    """``settings`` with the kept changes applied; a change that no longer validates is
    dropped with a warning rather than stopping modelward from starting."""
    kept = load_overrides(settings.home)
    try:
        return _applied(settings, kept)
    except ConfigError as bad:
        logger.warning("ignoring %s: %s", overrides_path(settings.home), bad.message)
        return settings


def save_change(settings: Settings, changes: dict[str, Any]) -> Settings:
    """Validate ``changes`` over ``settings``, keep them, and return the new settings."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ConfigError(
            f"these settings cannot be changed here: {', '.join(unknown)}",
            hint=f"Editable: {', '.join(EDITABLE)}; the rest come from the environment.",
        )
    updated = _applied(settings, changes)
    kept = load_overrides(settings.home) | changes
    write_json_atomic(overrides_path(settings.home), kept)
    return updated


def _applied(settings: Settings, changes: dict[str, Any]) -> Settings:
    values = settings.model_dump()
    values.update(changes)  # None is a value here (vram_gb: back to the GPU's reading)
    return Settings.from_values(values)
