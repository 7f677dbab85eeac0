"""The Hugging Face Hub protocol: revision metadata and file bytes via ``resolve``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from modelward.catalog import ModelSpec
from modelward.errors import HostileMetadataError, ProtocolViolationError
from modelward.sources.files import (
    RemoteFile,
    Target,
    check_unique_paths,
    validate_commit,
    validate_repo_path,
    validate_size,
)
from modelward.sources.http import ByteStream, HttpClients, get_json, is_html_file, open_range

logger = logging.getLogger(__name__)


class HubSource:
    """Reads repositories from a Hub endpoint (huggingface.co, a mirror or the local hub)."""

    def __init__(self, clients: HttpClients, endpoint: str, token: str | None = None) -> None:
        self._clients = clients
        self.endpoint = endpoint.rstrip("/")
        self._token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def resolve(self, spec: ModelSpec) -> Target:
        """Ask the hub which commit ``spec.revision`` is and which files it holds."""
        url = (
            f"{self.endpoint}/api/models/{spec.repo}/revision/"
            f"{quote(spec.revision, safe='')}?blobs=true"
        )
        what = f"metadata of {spec.repo}@{spec.revision}"
        payload = await get_json(self._clients.metadata, url, self._headers(), what)
        if not isinstance(payload, dict):
            raise ProtocolViolationError(f"{what}: expected a JSON object")
        commit = validate_commit(payload.get("sha"))
        siblings = payload.get("siblings")
        if not isinstance(siblings, list):
            raise ProtocolViolationError(f"{what}: no file list ('siblings')")
        files = check_unique_paths(_parse_sibling(s) for s in siblings)
        selected = tuple(f for f in files if spec.selects(f.path))
        logger.debug(
            "resolved %s@%s to %s (%d files)", spec.repo, spec.revision, commit, len(selected)
        )
        return Target(
            model_id=spec.id,
            repo_id=spec.repo,
            revision=spec.revision,
            commit=commit,
            files=selected,
            listing=files,
        )

    def file_url(self, target: Target, file: RemoteFile) -> str:
        """The ``resolve`` URL of ``file`` pinned to the target's commit."""
        return f"{self.endpoint}/{target.repo_id}/resolve/{target.commit}/{quote(file.path)}"

    @contextmanager
    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> Iterator[ByteStream]:
        """Open ``file``'s bytes from offset ``start``, checking the commit and etag served
        (blocking)."""
        what = f"{target.repo_id}/{file.path}"
        with open_range(
            self._clients.bodies,
            self.file_url(target, file),
            headers=self._headers(),
            start=start,
            end=end,
            what=what,
            html_expected=is_html_file(file.path),
        ) as stream:
            if stream.commit and stream.commit != target.commit:
                raise ProtocolViolationError(
                    f"{what}: the hub served commit {stream.commit}, not {target.commit}"
                )
            if stream.etag and stream.etag != file.blob_name:
                raise ProtocolViolationError(
                    f"{what}: the hub served content {stream.etag}, expected {file.blob_name}"
                )
            yield stream


def _parse_sibling(raw: object) -> RemoteFile:
    if not isinstance(raw, dict):
        raise HostileMetadataError(f"file entry {raw!r} is not an object")
    path = validate_repo_path(raw.get("rfilename"))
    lfs = raw.get("lfs")
    if isinstance(lfs, dict):
        sha256 = lfs.get("sha256") or lfs.get("oid")
        if not isinstance(sha256, str):
            raise HostileMetadataError(f"file {path!r} is LFS but has no sha256")
        size = validate_size(lfs.get("size", raw.get("size")), path)
        return RemoteFile(path=path, size_bytes=size, sha256=sha256.lower())
    blob_id = raw.get("blobId")
    if not isinstance(blob_id, str):
        raise ProtocolViolationError(
            f"file {path!r} has no blobId; the endpoint must support '?blobs=true'"
        )
    return RemoteFile(
        path=path, size_bytes=validate_size(raw.get("size"), path), git_oid=blob_id.lower()
    )
