"""Sources: where a model's bytes come from (the Hub protocol, or plain pinned URLs)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from modelward.catalog import ModelSpec
from modelward.sources.files import RemoteFile, RepoPath, Target, validate_repo_path
from modelward.sources.http import HttpClients, build_clients
from modelward.sources.hub import HubSource
from modelward.sources.offline import OfflineSource, offline_error
from modelward.sources.ranged import ByteStream
from modelward.sources.url import UrlSource


class Source(Protocol):
    """Anything that can resolve a catalog entry and open its files' bytes."""

    async def resolve(self, spec: ModelSpec) -> Target:
        """Resolve ``spec`` to a commit and its selected files."""
        ...

    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> AbstractContextManager[ByteStream]:
        """Open ``file``'s bytes ``[start, end)`` (``end=None``: to its end; blocking)."""
        ...


def source_for(
    spec: ModelSpec,
    clients: HttpClients,
    *,
    endpoint: str,
    token: str | None,
    offline: bool = False,
) -> Source:
    """Return the source that serves ``spec`` (its own endpoint wins over the default);
    ``offline``: one that contacts nothing and says so."""
    if offline:
        return OfflineSource()
    if spec.source == "url":
        return UrlSource(clients)
    return HubSource(clients, spec.endpoint or endpoint, token)


__all__ = [
    "ByteStream",
    "HttpClients",
    "HubSource",
    "OfflineSource",
    "RemoteFile",
    "RepoPath",
    "Source",
    "Target",
    "UrlSource",
    "build_clients",
    "offline_error",
    "source_for",
    "validate_repo_path",
]
