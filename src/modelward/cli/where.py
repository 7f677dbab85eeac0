"""Commands that change the store ask the running service when there is one (it knows
which models its jobs hold and runs the downloads), else do the work in this process."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from modelward.cli.client import TIMEOUT_S, ServiceClient, ServiceRequestError
from modelward.cli.options import build_settings, setup_logging
from modelward.cli.output import fail
from modelward.errors import ModelwardError, ServiceNotRunningError
from modelward.runtime import Runtime
from modelward.settings import Settings


def ask_service_or_here(
    catalog: list[Path] | None,
    cache_dir: Path | None,
    verbose: bool,
    remote: Callable[[ServiceClient], Any],
    local: Callable[[Runtime], Awaitable[Any]],
    *,
    timeout_s: float | None = TIMEOUT_S,
) -> Any:
    """``remote`` against the running service, else ``local`` on a runtime here; either
    way the answer in the service's JSON shape."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir)
        try:
            client = ServiceClient.discover(settings, timeout_s)
        except ServiceNotRunningError:
            return _plain(asyncio.run(_here(settings, local)))
        with client:
            return remote(client)
    except (ModelwardError, ServiceRequestError) as error:
        raise fail(error) from None


async def _here(settings: Settings, local: Callable[[Runtime], Awaitable[Any]]) -> Any:
    async with Runtime(settings) as rt:
        return await local(rt)


def _plain(value: Any) -> Any:
    """The local answer in the same JSON shape the service sends."""
    data = [_fields(v) for v in value] if isinstance(value, list) else _fields(value)
    return json.loads(json.dumps(data, default=str))


def _fields(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value
