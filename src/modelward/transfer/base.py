"""The seed's base ModelDownloader: one transfer of one file over HTTP, no policy.

It knows where models go (the :class:`ModelManager`), which source serves each one (with
the HF token only for the configured endpoint) and how to move one file into its verified
blob (:func:`fetch_blob`). Retries, segments' scheduling, priorities, pause and resume are
the :class:`~modelward.transfer.downloader.EnhancedModelDownloader`'s, built on one of these
as the seed builds it: ``EnhancedModelDownloader(base_downloader)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from modelward.catalog import Catalog, ModelSpec, load_catalog
from modelward.catalog.remembered import RememberedEntries
from modelward.overrides import with_overrides
from modelward.settings import Settings
from modelward.sources import HttpClients, RemoteFile, Source, Target, build_clients, source_for
from modelward.sources.bucket import MirrorBucket
from modelward.sources.mirror import MirroredSource
from modelward.store.manager import ModelManager
from modelward.transfer.fetch import AttemptMemory, FetchContext, fetch_blob
from modelward.transfer.retry import RetryPolicy

_T = TypeVar("_T")


def default_settings() -> Settings:
    """What a seed constructor given nothing uses: the environment, with the changes a
    person saved in ``MODELWARD_HOME/settings.json`` (as every entry point reads them)."""
    return with_overrides(Settings.from_env())


def catalog_for(settings: Settings) -> Catalog:
    """The catalog ``settings`` name (files, built-in and remembered entries)."""
    remembered = RememberedEntries.in_home(settings.home)
    return load_catalog(settings.catalog_files, env={}, remembered=remembered.path)


def model_manager_for(settings: Settings) -> ModelManager:
    """The catalog and store ``settings`` name, as the service builds them."""
    return ModelManager(catalog_for(settings), settings.cache_dir, settings.home)


class ModelDownloader:
    """Moves one file of a catalog model from its source into the store; no retries."""

    def __init__(
        self,
        manager: ModelManager | None = None,
        clients: HttpClients | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or default_settings()
        """Where the defaults of the enhanced parts built on this one come from."""
        self.manager = manager or model_manager_for(self.settings)
        self._own_clients = clients is None
        self.clients = clients or build_clients(
            connect_timeout_s=self.settings.connect_timeout_s,
            read_timeout_s=self.settings.read_timeout_s,
            stall_timeout_s=self.settings.stall_timeout_s,
        )
        self.endpoint = self.settings.endpoint.rstrip("/")
        self.offline = self.settings.offline
        """HF_HUB_OFFLINE: no source is contacted; pulls finish only from what is on disk."""
        self._hf_token = self.settings.hf_token

    def source(self, model_id: str) -> Source:
        """The source that serves ``model_id``."""
        spec = self.manager.spec(model_id)
        # The HF token goes only to the configured endpoint: a catalog file naming another
        # endpoint must not be a way to collect it.
        same_endpoint = spec.endpoint is None or spec.endpoint.rstrip("/") == self.endpoint
        token = self._hf_token if same_endpoint else None
        mirrors = mirrors_for(spec, self.settings)
        if mirrors and spec.source == "hub":
            # Offline mode keeps the Hub out, not the team's own mirror.
            hub = (
                None
                if self.offline
                else source_for(spec, self.clients, endpoint=self.endpoint, token=token)
            )
            return MirroredSource(hub, mirrors, self.clients)
        return source_for(
            spec, self.clients, endpoint=self.endpoint, token=token, offline=self.offline
        )

    async def fetch_file(
        self,
        target: Target,
        file: RemoteFile,
        ctx: FetchContext,
        memory: AttemptMemory | None = None,
    ) -> None:
        """Fetch ``file`` of ``target`` into its verified blob, once (resuming from
        ``memory`` or the durable record of what is on disk); failures raise."""
        await fetch_blob(target, file, ctx, memory)

    async def aclose(self) -> None:
        """Close the HTTP clients this downloader made (not ones it was given)."""
        if self._own_clients:
            await self.clients.aclose()


def mirrors_for(spec: ModelSpec, settings: Settings) -> list[MirrorBucket]:
    """The team mirrors a model's files are tried from, in order: its catalog entry's, then
    MODELWARD_MIRRORS."""
    addresses = dict.fromkeys((*spec.mirrors, *settings.mirrors))
    return [MirrorBucket.at(a, settings.s3_endpoint_url) for a in addresses]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The enhanced downloader's knobs, each from settings unless given."""

    policy: RetryPolicy
    connections: int
    connections_per_file: int
    segment_bytes: int
    bandwidth_limit_bytes_per_s: float

    @classmethod
    def resolve(
        cls,
        settings: Settings,
        *,
        policy: RetryPolicy | None = None,
        connections: int | None = None,
        connections_per_file: int | None = None,
        segment_bytes: int | None = None,
        bandwidth_limit_bytes_per_s: float | None = None,
    ) -> EngineSettings:
        """The values given (not None), the rest from ``settings``."""
        return cls(
            policy=policy or retry_policy_for(settings),
            connections=_given(connections, settings.connections),
            connections_per_file=_given(connections_per_file, settings.connections_per_file),
            segment_bytes=_given(segment_bytes, settings.segment_bytes),
            bandwidth_limit_bytes_per_s=_given(
                bandwidth_limit_bytes_per_s, settings.bandwidth_limit_bytes_per_s
            ),
        )


def retry_policy_for(settings: Settings, *, enabled: bool = True) -> RetryPolicy:
    """The retry policy ``settings`` name (``enabled`` False: the retries feature is off,
    one attempt)."""
    return RetryPolicy(
        max_retries=settings.max_retries if enabled else 0,
        base_delay_s=settings.retry_base_delay_s,
        max_delay_s=settings.retry_max_delay_s,
        enabled=enabled,
    )


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value
