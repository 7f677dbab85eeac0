"""Durations as the API gives them: a number of seconds, like every ``*_s`` field.

(An ISO-8601 string such as pydantic's ``PT0.8S`` is not a valid JSON Schema ``duration``
once it carries a fraction, and clients would parse two forms.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator


def _to_seconds(value: object) -> object:
    return value.total_seconds() if isinstance(value, timedelta) else value


Seconds = Annotated[float, BeforeValidator(_to_seconds)]
"""A duration in seconds; a ``timedelta`` from inside is converted on the way out."""
