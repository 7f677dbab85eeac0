"""HTTP plumbing shared by every source: the clients, JSON metadata and ranged GETs.

Metadata calls are async (``httpx.AsyncClient``). File bodies are read by blocking
workers, one thread per connection, through ``httpx.Client`` and :class:`BodyReader`:
received bytes go from the socket into large buffers and on to disk in that thread,
without a hop through the event loop per 64 KiB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypedDict

import httpx

from modelward._version import __version__
from modelward.errors import HostileMetadataError, ProtocolViolationError
from modelward.sources.body import BodyReader
from modelward.sources.http_errors import raise_for_status, translate_transport_error
from modelward.units import format_size

_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
MAX_METADATA_BYTES = 64 * 1000 * 1000
"""The largest metadata answer read: a revision of 100,000 files (the most a source may
list) takes about 30 MB; anything larger is meant to exhaust memory."""
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


class _ClientOptions(TypedDict):
    timeout: httpx.Timeout
    limits: httpx.Limits
    headers: dict[str, str]
    follow_redirects: bool
    trust_env: bool


def _client_options(connect_timeout_s: float, read_timeout_s: float) -> _ClientOptions:
    return {
        "timeout": httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        "limits": httpx.Limits(max_connections=64, max_keepalive_connections=32),
        "headers": {"User-Agent": f"modelward/{__version__}"},
        "follow_redirects": True,
        "trust_env": True,
    }


@dataclass(frozen=True, slots=True)
class HttpClients:
    """The clients every source shares: async for metadata, blocking for file bodies."""

    metadata: httpx.AsyncClient
    bodies: httpx.Client

    async def aclose(self) -> None:
        """Close both clients and their connections."""
        await self.metadata.aclose()
        self.bodies.close()


def build_clients(
    *,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 30.0,
    stall_timeout_s: float | None = None,
) -> HttpClients:
    """Return the shared clients (TLS verification stays on; proxies from the environment).

    A file body that delivers no byte for ``stall_timeout_s`` (default: ``read_timeout_s``)
    is dropped, and the retry resumes it; metadata answers wait ``read_timeout_s``."""
    stall = read_timeout_s if stall_timeout_s is None else stall_timeout_s
    return HttpClients(
        metadata=httpx.AsyncClient(**_client_options(connect_timeout_s, read_timeout_s)),
        bodies=httpx.Client(**_client_options(connect_timeout_s, stall)),
    )


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    what: str,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
) -> object:
    """GET ``url`` and return its JSON body, with errors translated; an answer over
    ``max_bytes`` is refused as it streams in, never buffered whole."""
    try:
        async with client.stream("GET", url, headers=dict(headers)) as response:
            raise_for_status(response, what)
            body = await _read_capped(response, max_bytes, what)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_transport_error(exc, what) from exc
    return parse_json(body, what)


async def _read_capped(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(what, max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():  # decoded: a compressed bomb counts in full
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(what, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(what: str, max_bytes: int) -> HostileMetadataError:
    return HostileMetadataError(
        f"{what}: the answer is larger than {format_size(max_bytes)}, far more than any "
        "repository's metadata; it was not read"
    )


def parse_json(body: bytes, what: str) -> object:
    """Parse a metadata answer; nesting too deep for the parser is refused, not a crash."""
    try:
        return json.loads(body)
    except RecursionError:
        raise HostileMetadataError(f"{what}: the JSON answer is nested absurdly deep") from None
    except ValueError as exc:
        raise ProtocolViolationError(f"{what}: the answer is not JSON") from exc


@dataclass(frozen=True, slots=True)
class ByteStream:
    """An open response body for a byte range of one remote file (blocking reads)."""

    start: int
    """Offset of the first byte the body carries (0 when the server ignored the range)."""
    etag: str | None
    commit: str | None
    body: BodyReader


def _strip_etag(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


@contextmanager
def open_range(
    client: httpx.Client,
    url: str,
    *,
    headers: Mapping[str, str],
    start: int,
    end: int | None = None,
    what: str,
    html_expected: bool = False,
) -> Iterator[ByteStream]:
    """Open bytes ``[start, end)`` of ``url`` (``end=None``: to the end of the file),
    validating the range the server sent (blocking). An HTML page in place of a file is
    refused unless the file is one (``html_expected``)."""
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
        response = client.send(request, stream=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_transport_error(exc, what) from exc
    try:
        if response.status_code == 416:
            raise ProtocolViolationError(f"{what}: the server cannot serve from byte {start}")
        raise_for_status(response, what)
        first = response.history[0].headers if response.history else response.headers
        body = BodyReader(response, what)
        ranged = "Range" in request_headers
        if not html_expected and _is_html_page(response, body, ranged):
            raise ProtocolViolationError(
                f"{what}: the server answered with an HTML page instead of the file "
                f"(HTTP {response.status_code})",
                hint="A proxy, captive portal or CDN error page is in the way: check the "
                "network and HF_ENDPOINT; the partial data is kept for the next attempt.",
            )
        yield ByteStream(
            start=_body_start(response, start, what),
            etag=_strip_etag(first.get("X-Linked-Etag") or response.headers.get("ETag")),
            commit=first.get("X-Repo-Commit"),
            body=body,
        )
    finally:
        response.close()


def is_html_file(path: str) -> bool:
    """Whether a repository file is itself a web page (so an HTML answer is no error)."""
    return path.lower().endswith((".html", ".htm", ".xhtml"))


def _is_html_page(response: httpx.Response, body: BodyReader, ranged: bool) -> bool:
    """Whether the answer is a web page: labelled as one, or, when a range was asked for
    and a 200 came back instead (the usual shape of an error page), starting like one."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        return True
    if not ranged or response.status_code != 200:
        return False
    return body.peek(64).lstrip().lower().startswith(_HTML_STARTS)


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
