"""Where a command's work happens: in the service of this MODELWARD_HOME.

The service owns every download. A command that starts work (pull, repair, update apply,
rm, cleanup --execute, request run ...) is its client, and starts a background service
when none runs (``background.py``). A command that only reads or plans (status, queue,
suggest, a cleanup dry run ...) asks the running service, or, when none runs, computes the
same answer in this process with the same code: nothing downloads then, since nothing runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from modelward.api.schemas import ModelStatusPublic
from modelward.cli.discovery import TIMEOUT_S, find_service
from modelward.cli.headstart import serve_args
from modelward.cli.options import build_settings, setup_logging
from modelward.cli.output import fail
from modelward.errors import ConfigError, ModelwardError, ServiceNotRunningError

if TYPE_CHECKING:
    from modelward.api.schemas import SettingsReadOnly
    from modelward.cli.client import ServiceClient
    from modelward.cli.headstart import EarlyStart
    from modelward.runtime import Runtime
    from modelward.settings import Settings

# Imported where used: with no service running, a read needs no HTTP client to the service
# (client.py, with every schema it parses), and a client of the service needs no runtime.

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def running_service(
    settings: Settings, timeout_s: float | None = TIMEOUT_S
) -> ServiceClient | None:
    """A client of the service registered for ``settings.home`` once it answers, or None."""
    try:
        find_service(settings.home)  # no service.json or its process gone: not running
    except ServiceNotRunningError:
        return None
    from modelward.cli.client import ServiceClient

    try:
        client = ServiceClient.discover(settings, timeout_s)
    except ServiceNotRunningError:
        return None
    try:
        client.healthz()
    except ServiceNotRunningError:
        client.close()
        return None
    return client


def service_for_work(
    settings: Settings,
    serve_args: Sequence[str] = (),
    serve_env: dict[str, str] | None = None,
    timeout_s: float | None = TIMEOUT_S,
) -> ServiceClient:
    """A client of the running service, starting one in the background if none runs."""
    client = running_service(settings, timeout_s)
    if client is not None:
        return agreeing(client, settings, serve_args)
    return start_service(settings, serve_args, serve_env, timeout_s)


def agreeing(client: ServiceClient, settings: Settings, serve_args: Sequence[str]) -> ServiceClient:
    """``client`` of the running service, once its offline mode and options are the
    command's (else ConfigError, and ``client`` is closed)."""
    from modelward.cli.offline import check_offline_agrees

    check_offline_agrees(client, settings)
    check_options_agree(client, serve_args)
    return client


def start_service(
    settings: Settings,
    serve_args: Sequence[str] = (),
    serve_env: dict[str, str] | None = None,
    timeout_s: float | None = TIMEOUT_S,
    early: EarlyStart | None = None,
) -> ServiceClient:
    """A client of a service started in the background with the command's options (or of
    the one spawned ``early``)."""
    from modelward.cli.background import start_on_demand
    from modelward.cli.client import ServiceClient

    start_on_demand(settings, serve_args, serve_env, early=early)
    return ServiceClient.discover(settings, timeout_s)


def check_options_agree(client: ServiceClient, serve_args: Sequence[str]) -> None:
    """Raise ConfigError (and close ``client``) when the command names a store, hub or
    catalog the running service does not use: its files would go where the service's go."""
    asked = list(zip(serve_args[::2], serve_args[1::2], strict=True))
    if not asked:
        return
    fixed = client.settings().read_only
    for option, value in asked:
        uses = _service_uses(option, fixed)
        if not _agrees(option, value, uses):
            client.close()
            raise ConfigError(
                f"{option} {value} is not what the service at {client.url} for "
                f"{fixed.home} uses ({', '.join(uses) or 'none'}); it would work there",
                hint=f"Leave out {option} to use that service, or stop it with 'modelward "
                "service stop' so that the next command starts one with your options.",
            )


def _service_uses(option: str, fixed: SettingsReadOnly) -> list[str]:
    return {
        "--cache-dir": [fixed.cache_dir],
        "--endpoint": [fixed.endpoint],
        "--catalog": fixed.catalog_files,
    }[option]


def _agrees(option: str, value: str, uses: list[str]) -> bool:
    if option == "--endpoint":
        return value.rstrip("/") in uses
    return Path(value).expanduser().resolve() in {Path(u).expanduser().resolve() for u in uses}


def ask_service_or_here(
    catalog: list[Path] | None,
    cache_dir: Path | None,
    verbose: bool,
    remote: Callable[[ServiceClient], R],
    local: Callable[[Runtime], Awaitable[R]] | None,
    *,
    timeout_s: float | None = TIMEOUT_S,
) -> R:
    """``remote`` against the running service; when none runs, ``local`` on a runtime here
    (None: the work needs a service, so one starts in the background). Both answer in the
    API's schemas (``as_public`` converts a library answer)."""
    setup_logging(verbose)
    try:
        settings = build_settings(catalog, cache_dir)
        client = running_service(settings, timeout_s)
        if client is None and local is not None:
            return asyncio.run(_here(settings, local))
        if client is None:
            client = service_for_work(settings, serve_args(catalog, cache_dir), None, timeout_s)
        with client:
            return remote(client)
    except ModelwardError as error:
        raise fail(error) from None


def as_public(schema: type[M], value: Any) -> M:
    """A library answer (a dataclass or a dict) in the API's schema for it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return schema.model_validate(value)


async def _here(settings: Settings, local: Callable[[Runtime], Awaitable[R]]) -> R:
    from modelward.runtime import Runtime

    async with Runtime(settings) as rt:
        return await local(rt)


STATUS_LIST: TypeAdapter[list[ModelStatusPublic]] = TypeAdapter(list[ModelStatusPublic])
"""Statuses in the API's schema, converted and written in one call each (20,000 entries)."""


def model_statuses(
    settings: Settings, model_ids: list[str] | None, *, resolve_remote: bool
) -> list[ModelStatusPublic]:
    """Each model's status as the running service derives it; with no service, the same
    derivation here (``resolve_remote`` False: local records only)."""
    client = running_service(settings)
    if client is not None:
        with client:
            if not model_ids:
                return client.statuses()
            return [client.model_status(m) for m in model_ids]
    return asyncio.run(_local_statuses(settings, model_ids, resolve_remote))


async def _local_statuses(
    settings: Settings, model_ids: list[str] | None, resolve_remote: bool
) -> list[ModelStatusPublic]:
    from modelward.runtime import Runtime

    async with Runtime(settings) as runtime:
        ids = model_ids or runtime.catalog.ids()
        for model_id in ids:
            runtime.catalog.get(model_id)  # an unknown id fails before any work
        # Unlike the service's status reads (HTTP GETs, which never ask the hub), a person's
        # explicit `modelward status` with no service running may ask the hub for models
        # never resolved here and remember their files (not with --offline).
        statuses = await runtime.availability.statuses(ids, resolve_remote=resolve_remote)
        return STATUS_LIST.validate_python(statuses, from_attributes=True)
