"""The source that stands in for every other while offline (``HF_HUB_OFFLINE=1``).

It contacts nothing: resolving or opening a file raises :class:`OfflineError` naming what
was wanted, so every caller (status, verify, repair, update, fallback) says "offline" and
what to do rather than timing out against a network that must not be used.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from modelward.catalog import ModelSpec
from modelward.errors import OfflineError
from modelward.sources.files import RemoteFile, Target
from modelward.sources.ranged import ByteStream


class OfflineSource:
    """A source that refuses every request because offline mode is on."""

    async def resolve(self, spec: ModelSpec) -> Target:
        """Refuse: asking which commit and files a revision has needs the source."""
        raise offline_error(f"cannot ask {spec.repo}@{spec.revision} which files it has")

    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> AbstractContextManager[ByteStream]:
        """Refuse: fetching bytes needs the source."""
        raise offline_error(f"cannot fetch {target.repo_id}/{file.path}")


def offline_error(what: str) -> OfflineError:
    """The error for ``what`` could not be done because offline mode is on."""
    return OfflineError(f"offline (HF_HUB_OFFLINE=1 is set): {what}")
