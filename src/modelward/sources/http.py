"""HTTP plumbing shared by every source: ranged GETs and the translation of httpx errors.

This is the only module that catches httpx exceptions; everything after it sees
modelward errors whose ``retryable`` flag decides what the retry loop does.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from modelward._version import __version__
from modelward.errors import (
    AuthRequiredError,
    ConfigError,
    IncompleteTransferError,
    ModelwardError,
    ProtocolViolationError,
    RemoteNotFoundError,
    SourceUnavailableError,
)

_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def build_client(
    *, connect_timeout_s: float = 10.0, read_timeout_s: float = 30.0
) -> httpx.AsyncClient:
    """Return the async HTTP client every source shares (TLS verification stays on)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        headers={"User-Agent": f"modelward/{__version__}"},
        follow_redirects=True,
        trust_env=True,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Return the delay a ``Retry-After`` header asks for, in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Raise the modelward error that fits a non-success response about ``what``."""
    status = response.status_code
    if status < 400:
        return
    error_code = response.headers.get("X-Error-Code", "")
    if status in (401, 403):
        raise AuthRequiredError(
            f"{what}: the server refused access (HTTP {status}"
            f"{', ' + error_code if error_code else ''})"
        )
    if status == 404:
        detail = {
            "RepoNotFound": "repository not found",
            "RevisionNotFound": "revision not found",
            "EntryNotFound": "file not found in this revision",
        }.get(error_code, "not found")
        raise RemoteNotFoundError(f"{what}: {detail} (HTTP 404)")
    if status == 429 or status >= 500:
        raise SourceUnavailableError(
            f"{what}: the server is busy or failing (HTTP {status})",
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
    raise ProtocolViolationError(f"{what}: unexpected HTTP {status}")


def translate_transport_error(exc: httpx.HTTPError | httpx.InvalidURL, what: str) -> ModelwardError:
    """Map an httpx transport failure to a modelward error (retryable when it may pass)."""
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ConfigError(
            f"{what}: the URL is not usable ({exc})",
            hint="Check HF_ENDPOINT / --endpoint or the catalog's URLs "
            "(they need http:// or https://).",
        )
    if isinstance(exc, httpx.TimeoutException):
        return IncompleteTransferError(f"{what}: the server stopped sending ({type(exc).__name__})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return IncompleteTransferError(f"{what}: the connection ended early ({exc})")
    if isinstance(exc, httpx.ConnectError):
        return SourceUnavailableError(f"{what}: cannot connect ({exc})")
    return IncompleteTransferError(f"{what}: {type(exc).__name__}: {exc}")


async def get_json(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], what: str
) -> object:
    """GET ``url`` and return its JSON body, with errors translated."""
    try:
        response = await client.get(url, headers=dict(headers))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_transport_error(exc, what) from exc
    raise_for_status(response, what)
    try:
        return response.json()
    except ValueError as exc:
        raise ProtocolViolationError(f"{what}: the answer is not JSON") from exc


@dataclass(frozen=True, slots=True)
class ByteStream:
    """An open response body for a byte range of one remote file."""

    start: int
    """Offset of the first byte the body carries (0 when the server ignored the range)."""
    total_size: int | None
    etag: str | None
    commit: str | None
    first_hop_headers: httpx.Headers
    _response: httpx.Response
    _what: str

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks, translating transport failures."""
        try:
            # No chunk size: bytes are handed on as they arrive, so a connection that
            # breaks mid-way loses nothing it already delivered.
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, self._what) from exc


def _strip_etag(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


@asynccontextmanager
async def open_range(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    start: int,
    end: int | None = None,
    what: str,
) -> AsyncIterator[ByteStream]:
    """Open bytes ``[start, end)`` of ``url`` (``end=None``: to the end of the file),
    validating the range the server sent."""
    request_headers = dict(headers)
    # Weights are incompressible; a compressed body would only cost CPU and break ranges.
    request_headers["Accept-Encoding"] = "identity"
    if start > 0 or end is not None:
        # No If-Range: the Hub's CDN has ETags of its own, not the content hash, so it would
        # answer every resume with the whole file. Our URLs are pinned to a commit, partial
        # files are named by their content hash, and that hash decides before promotion.
        request_headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
    try:
        request = client.build_request("GET", url, headers=request_headers)
        response = await client.send(request, stream=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_transport_error(exc, what) from exc
    try:
        if response.status_code == 416:
            raise ProtocolViolationError(f"{what}: the server cannot serve from byte {start}")
        raise_for_status(response, what)
        first = response.history[0].headers if response.history else response.headers
        yield ByteStream(
            start=_body_start(response, start, what),
            total_size=_total_size(response),
            etag=_strip_etag(first.get("X-Linked-Etag") or response.headers.get("ETag")),
            commit=first.get("X-Repo-Commit"),
            first_hop_headers=first,
            _response=response,
            _what=what,
        )
    finally:
        await response.aclose()


def _body_start(response: httpx.Response, requested: int, what: str) -> int:
    if response.status_code == 206:
        match = _CONTENT_RANGE_RE.match(response.headers.get("Content-Range", ""))
        if not match:
            raise ProtocolViolationError(f"{what}: 206 without a usable Content-Range")
        got = int(match.group(1))
        if got != requested:
            raise ProtocolViolationError(f"{what}: asked for byte {requested}, got {got}")
        return got
    # A 200 to a ranged request means the server (or If-Range) wants us to start over.
    return 0


def _total_size(response: httpx.Response) -> int | None:
    match = _CONTENT_RANGE_RE.match(response.headers.get("Content-Range", ""))
    if match and match.group(3) != "*":
        return int(match.group(3))
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() and response.status_code == 200 else None
