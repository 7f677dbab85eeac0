"""Plain-URL files with a pinned size and sha256 (a second source kind)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from modelward.catalog import ModelSpec
from modelward.errors import ProtocolViolationError
from modelward.sources.files import RemoteFile, Target, check_unique_paths, validate_repo_path
from modelward.sources.http import HttpClients
from modelward.sources.ranged import ByteStream, is_html_file, open_range


class UrlSource:
    """Serves catalog entries whose files are listed with a URL, size and sha256."""

    def __init__(self, clients: HttpClients) -> None:
        self._clients = clients

    async def resolve(self, spec: ModelSpec) -> Target:
        """Build the target from the pinned files alone; no network needed."""
        files = check_unique_paths(
            RemoteFile(
                path=validate_repo_path(f.path),
                size_bytes=f.size_bytes,
                sha256=f.sha256,
                url=f.url,
            )
            for f in spec.files
        )
        return Target(
            model_id=spec.id,
            repo_id=spec.repo,
            revision=spec.revision,
            commit=pinned_commit(files),
            files=files,
        )

    @contextmanager
    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> Iterator[ByteStream]:
        """Open the pinned URL from byte ``start`` (blocking)."""
        if file.url is None:
            raise ProtocolViolationError(f"{file.path}: no URL pinned in the catalog")
        with open_range(
            self._clients,
            file.url,
            headers={},
            start=start,
            end=end,
            what=f"{target.model_id}/{file.path}",
            html_expected=is_html_file(file.path),
        ) as stream:
            yield stream


def pinned_commit(files: tuple[RemoteFile, ...]) -> str:
    """A stable 40-hex snapshot id derived from the pinned file list.

    URL entries have no git commit; deriving one from the pins means changing a pin makes a
    new snapshot beside the old one, exactly like a new commit would.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.size_bytes}\0{f.sha256}\n".encode())
    return digest.hexdigest()
