"""The Hugging Face Hub protocol: revision metadata and file bytes via ``resolve``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from modelward.catalog import ModelSpec
from modelward.errors import (
    AuthRequiredError,
    HostileMetadataError,
    ProtocolViolationError,
    RemoteNotFoundError,
)
from modelward.sources.files import (
    RemoteFile,
    Target,
    check_unique_paths,
    validate_commit,
    validate_repo_path,
    validate_size,
)
from modelward.sources.http import HttpClients, get_json
from modelward.sources.links import LinkCache, link_for
from modelward.sources.pool import Origin
from modelward.sources.ranged import ByteStream, is_html_file, open_range
from modelward.sources.ratelimit import RESOLVE_BUCKET, rate_limit_host

logger = logging.getLogger(__name__)


class HubSource:
    """Reads repositories from a Hub endpoint (huggingface.co, a mirror or the local hub)."""

    def __init__(self, clients: HttpClients, endpoint: str, token: str | None = None) -> None:
        self._clients = clients
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._links = LinkCache()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def resolve(self, spec: ModelSpec) -> Target:
        """Ask the hub which commit ``spec.revision`` is and which files it holds."""
        url = (
            f"{self.endpoint}/api/models/{spec.repo}/revision/"
            f"{quote(spec.revision, safe='')}?blobs=true"
        )
        what = f"metadata of {spec.repo}@{spec.revision}"
        payload = await get_json(
            self._clients.metadata, url, self._headers(), what, rate_gate=self._clients.rate_gate
        )
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
        """Open ``file``'s bytes from offset ``start`` (blocking): over the CDN URL its
        ``resolve`` redirected to while that URL is valid, else resolving it (once for all
        the segments asking at the same moment) and checking the commit and etag served."""
        request = _FileRequest(target, file, start, end)
        with contextlib.ExitStack() as stack:
            stream = self._open_link(stack, request) or self._open_resolved(stack, request)
            yield stream

    def _open_link(self, stack: contextlib.ExitStack, request: _FileRequest) -> ByteStream | None:
        """Open the file's kept CDN URL; None when there is none, or when the CDN refuses it
        (expired early, or revoked): then the file is resolved again, at no failure's cost."""
        link = self._links.get(request.key)
        if link is None:
            return None
        try:
            return stack.enter_context(self._range(request, link.url, {}, None))
        except (AuthRequiredError, RemoteNotFoundError, ProtocolViolationError) as refused:
            # Expired (403 from CloudFront, 400 from some stores), revoked or moved: a
            # fresh resolve says where the file is now; if that fails too, it says why.
            logger.debug(
                "the CDN refused the URL of %s (%s); resolving again", request.what, refused
            )
            self._links.forget(request.key, link.url)
            return None

    def _open_resolved(self, stack: contextlib.ExitStack, request: _FileRequest) -> ByteStream:
        with self._links.resolving(request.key):
            # Another segment may have resolved the file while this one waited.
            stream = self._open_link(stack, request)
            if stream is not None:
                return stream
            url = self.file_url(request.target, request.file)
            self._clients.rate_gate.check(rate_limit_host(url), request.what, bucket=RESOLVE_BUCKET)
            stream = stack.enter_context(self._range(request, url, self._headers(), RESOLVE_BUCKET))
            if stream.redirected and Origin.of(stream.url) != Origin.of(url):
                # Only another origin's URL is kept: it is used without the hub's token.
                self._links.put(request.key, link_for(stream.url))
        _check_served(request, stream)
        return stream

    def _range(
        self, request: _FileRequest, url: str, headers: dict[str, str], bucket: str | None
    ) -> AbstractContextManager[ByteStream]:
        return open_range(
            self._clients,
            url,
            headers=headers,
            start=request.start,
            end=request.end,
            what=request.what,
            html_expected=is_html_file(request.file.path),
            rate_bucket=bucket,
        )


@dataclass(frozen=True, slots=True)
class _FileRequest:
    """One ranged read of one file of a target."""

    target: Target
    file: RemoteFile
    start: int
    end: int | None

    @property
    def key(self) -> tuple[str, str, str]:
        """What a CDN URL is kept under: the file at its commit."""
        return (self.target.repo_id, self.target.commit, self.file.path)

    @property
    def what(self) -> str:
        """How messages name the file."""
        return f"{self.target.repo_id}/{self.file.path}"


def _check_served(request: _FileRequest, stream: ByteStream) -> None:
    """The hub's own headers (on its answer or redirect) must name the commit and content
    asked for; a kept CDN URL's answer carries only the CDN's, which prove nothing."""
    target, file, what = request.target, request.file, request.what
    if stream.commit and stream.commit != target.commit:
        raise ProtocolViolationError(
            f"{what}: the hub served commit {stream.commit}, not {target.commit}"
        )
    if stream.etag and stream.etag != file.blob_name:
        raise ProtocolViolationError(
            f"{what}: the hub served content {stream.etag}, expected {file.blob_name}"
        )


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
