"""The Hub protocol's wire shapes for the endpoint that serves this node's store to plain
clients (``api/routes/hubproto.py``): repo info and tree JSON, byte ranges, the headers of
``resolve`` and errors as the Hub states them (huggingface_hub raises its exceptions from
``X-Error-Code``).

The shapes follow what huggingface_hub parses (``ModelInfo``, ``RepoFile``,
``get_hf_file_metadata``) and what ``sources/hub.py`` reads, so a modelward node can pull
from another one as from the Hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio.to_thread
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from modelward.api.errors import status_for
from modelward.errors import (
    CorruptEntryError,
    ModelwardError,
    NotInStoreError,
    UnauthorizedError,
)
from modelward.sources.files import RemoteFile
from modelward.store.served import OpenBlob, ServedRevision

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
"""Bytes read per step while streaming a blob: a 10 GB file never sits in memory."""
OCTET = "application/octet-stream"
HUB_ERROR_CODES = {"repo": "RepoNotFound", "revision": "RevisionNotFound", "file": "EntryNotFound"}
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
"""The Hub's words for a token it does not know; huggingface_hub then reports a 401 rather
than a repo that does not exist."""
HF_TOKEN_HINT = (
    "Give the client a modelward token of scope read as its Hugging Face token (HF_TOKEN=...; "
    "made on the node with 'modelward token create NAME --scope read')."
)
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiableError(Exception):
    """A ``Range`` that starts past the end of the file (answered 416)."""


def lfs_pointer(sha256: str, size_bytes: int) -> bytes:
    """The pointer file git holds for an LFS file (its git blob id is the Hub's blobId)."""
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size_bytes}\n"
    return text.encode()


def blob_id(file: RemoteFile) -> str:
    """The git blob id the Hub names a file by: of its content, or of its LFS pointer."""
    if file.sha256 is None:
        return str(file.git_oid)
    pointer = lfs_pointer(file.sha256, file.size_bytes)
    return hashlib.sha1(b"blob %d\0" % len(pointer) + pointer, usedforsecurity=False).hexdigest()


def repo_info(served: ServedRevision, *, blobs: bool) -> dict[str, Any]:
    """``/api/models/{repo}/revision/{rev}``'s answer (sizes and ids with ``blobs``)."""
    return {
        "_id": hashlib.sha1(served.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
        "id": served.repo_id,
        "modelId": served.repo_id,
        "author": served.repo_id.split("/")[0],
        "sha": served.commit,
        "private": False,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": [_sibling(f, blobs) for f in served.files],
        "usedStorage": sum(f.size_bytes for f in served.files),
    }


def _sibling(file: RemoteFile, blobs: bool) -> dict[str, Any]:
    if not blobs:
        return {"rfilename": file.path}
    entry: dict[str, Any] = {
        "rfilename": file.path,
        "size": file.size_bytes,
        "blobId": blob_id(file),
    }
    if file.sha256 is not None:
        pointer_size = len(lfs_pointer(file.sha256, file.size_bytes))
        entry["lfs"] = {"sha256": file.sha256, "size": file.size_bytes, "pointerSize": pointer_size}
    return entry


def tree(served: ServedRevision, folder: str, *, recursive: bool) -> list[dict[str, Any]] | None:
    """``/api/models/{repo}/tree/{rev}[/{folder}]``'s entries: folders first, then files
    (None: no such folder)."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    files: list[dict[str, Any]] = []
    folders: set[str] = set()
    for f in served.files:
        if not f.path.startswith(prefix):
            continue
        parts = f.path[len(prefix) :].split("/")
        if len(parts) > 1 and not recursive:
            folders.add(prefix + parts[0])
            continue
        folders.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts) - 1))
        files.append(_tree_file(f))
    if prefix and not files and not folders:
        return None
    return [_tree_folder(served.commit, d) for d in sorted(folders)] + files


def _tree_file(file: RemoteFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "file",
        "oid": blob_id(file),
        "size": file.size_bytes,
        "path": file.path,
    }
    if file.sha256 is not None:
        pointer_size = len(lfs_pointer(file.sha256, file.size_bytes))
        entry["lfs"] = {"oid": file.sha256, "size": file.size_bytes, "pointerSize": pointer_size}
    return entry


def _tree_folder(commit: str, path: str) -> dict[str, Any]:
    # Not git's tree id (the listing may be a part of the commit), but stable per commit.
    oid = hashlib.sha1(f"{commit}:{path}".encode(), usedforsecurity=False).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def file_headers(served: ServedRevision, file: RemoteFile) -> dict[str, str]:
    """The headers every ``resolve`` answer of ``file`` carries."""
    headers = {
        "ETag": f'"{file.blob_name}"',
        "X-Repo-Commit": served.commit,
        "Accept-Ranges": "bytes",
        "Content-Type": OCTET,
    }
    if file.sha256 is not None:
        headers["X-Linked-Etag"] = f'"{file.sha256}"'
        headers["X-Linked-Size"] = str(file.size_bytes)
    return headers


def byte_range(
    range_header: str | None, if_range: str | None, etag: str, size_bytes: int
) -> tuple[int, int] | None:
    """The ``[start, end]`` (inclusive) one ``Range`` asks for, None for the whole file
    (no range, one this server ignores, or an ``If-Range`` naming other content);
    RangeNotSatisfiableError when it starts past the end."""
    if range_header is None or (
        if_range is not None and if_range.strip() not in (etag, f'"{etag}"')
    ):
        return None
    found = _RANGE_RE.fullmatch(range_header.strip().replace(" ", ""))
    if found is None:
        return None  # several ranges or a malformed one: RFC 9110 lets a server send it all
    first, last = found.groups()
    if not first:
        if not last or int(last) == 0 or size_bytes == 0:
            raise RangeNotSatisfiableError
        return max(0, size_bytes - int(last)), size_bytes - 1
    start = int(first)
    if start >= size_bytes:
        raise RangeNotSatisfiableError
    end = min(int(last), size_bytes - 1) if last else size_bytes - 1
    return None if end < start else (start, end)


class BlobResponse(StreamingResponse):
    """Streams ``length`` bytes of an open verified blob from ``start``, a chunk at a time
    off the event loop; the blob is closed however the response ends."""

    def __init__(
        self, blob: OpenBlob, start: int, length: int, status: int, headers: Mapping[str, str]
    ) -> None:
        self.blob = blob
        headers = {**headers, "Content-Length": str(length)}
        super().__init__(self._chunks(start, length), status_code=status, headers=headers)

    async def _chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        offset, end = start, start + length
        while offset < end:
            size = min(CHUNK_BYTES, end - offset)
            chunk = await anyio.to_thread.run_sync(self._read, offset, size)
            offset += len(chunk)
            yield chunk

    def _read(self, offset: int, size: int) -> bytes:
        data = self.blob.read(offset, size)
        # Checked after each read: bytes written in place since the verification are never
        # sent as if they were verified; the client sees a cut-short body and retries.
        if not data or not self.blob.unchanged():
            logger.warning(
                "%s changed while it was being served; answer cut off", self.blob.file.path
            )
            raise CorruptEntryError(f"{self.blob.file.path} changed while it was being served")
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the bytes, then close the blob (also when the client went away)."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.blob.close()


def hub_error(
    exc: ModelwardError, *, commit: str | None = None, token_given: bool = False
) -> Response:
    """``exc`` as the Hub states an error (``X-Error-Code``, ``X-Error-Message``), with the
    project's ``{code, message, hint}`` body (which the server leaves out for a HEAD).

    ``commit``: the commit a file was looked for in, stated only for a file the commit does
    not list (huggingface_hub then remembers that it does not exist)."""
    status, hub_code = _hub_status(exc)
    if status == 401:  # the client is a Hub client: its token is HF_TOKEN
        exc = UnauthorizedError(exc.message, hint=HF_TOKEN_HINT)
    headers = {"X-Error-Message": _header_text(str(exc))}
    if hub_code is not None:
        headers["X-Error-Code"] = hub_code
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
        if token_given:
            headers["X-Error-Message"] = INVALID_CREDENTIALS
    if commit is not None:
        headers["X-Repo-Commit"] = commit
    body = json.dumps(exc.to_dict()).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _hub_status(exc: ModelwardError) -> tuple[int, str | None]:
    """The status and Hub error code of ``exc``. A file that changed or was found damaged
    since its verification is an entry this node does not have: huggingface_hub raises
    EntryNotFoundError with our message, where a 409 would make it blame the connection."""
    if isinstance(exc, NotInStoreError):
        return 404, HUB_ERROR_CODES[exc.missing]
    if isinstance(exc, CorruptEntryError):
        return 404, HUB_ERROR_CODES["file"]
    return status_for(exc), None


def _header_text(text: str) -> str:
    """``text`` as a header value: one line of ASCII."""
    return " ".join(text.encode("ascii", "replace").decode().split())[:1000]
