"""Sources: where a model's bytes come from (the Hub protocol, or plain pinned URLs)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

import httpx

from modelward.catalog import ModelSpec
from modelward.sources.files import RemoteFile, RepoPath, Target, validate_repo_path
from modelward.sources.http import ByteStream, build_client
from modelward.sources.hub import HubSource
from modelward.sources.url import UrlSource


class Source(Protocol):
    """Anything that can resolve a catalog entry and open its files' bytes."""

    async def resolve(self, spec: ModelSpec) -> Target:
        """Resolve ``spec`` to a commit and its selected files."""
        ...

    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> AbstractAsyncContextManager[ByteStream]:
        """Open ``file``'s bytes ``[start, end)`` (``end=None``: to its end)."""
        ...


def source_for(
    spec: ModelSpec, client: httpx.AsyncClient, *, endpoint: str, token: str | None
) -> Source:
    """Return the source that serves ``spec`` (its own endpoint wins over the default)."""
    if spec.source == "url":
        return UrlSource(client)
    return HubSource(client, spec.endpoint or endpoint, token)


__all__ = [
    "ByteStream",
    "HubSource",
    "RemoteFile",
    "RepoPath",
    "Source",
    "Target",
    "UrlSource",
    "build_client",
    "source_for",
    "validate_repo_path",
]
