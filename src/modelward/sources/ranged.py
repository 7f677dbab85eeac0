"""Ranged GETs of file bodies: redirects followed, the range and the content checked.

Bodies come over the kept connections of :class:`modelward.sources.pool.BodyPool`; a URL
that the environment routes through a proxy goes through httpx instead, which speaks the
proxy protocols.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from modelward.errors import ProtocolViolationError
from modelward.sources.body import BodyReader, HttpxBody
from modelward.sources.http import HttpClients
from modelward.sources.http_errors import Answer, raise_for_status, translate_transport_error
from modelward.sources.pool import Origin, PooledResponse
from modelward.sources.ratelimit import rate_limit_host

_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10
_DRAINED_BYTES = 64 * 1024
"""A redirect's body up to this size is read so its connection can be kept."""


@dataclass(frozen=True, slots=True)
class ByteStream:
    """An open response body for a byte range of one remote file (blocking reads)."""

    start: int
    """Offset of the first byte the body carries (0 when the server ignored the range)."""
    etag: str | None
    commit: str | None
    body: BodyReader
    url: str = ""
    """Where the body came from, after redirects (a CDN URL behind a ``resolve``)."""
    redirected: bool = False


@contextmanager
def open_range(
    clients: HttpClients,
    url: str,
    *,
    headers: Mapping[str, str],
    start: int,
    end: int | None = None,
    what: str,
    html_expected: bool = False,
    rate_bucket: str | None = None,
) -> Iterator[ByteStream]:
    """Open bytes ``[start, end)`` of ``url`` (``end=None``: to the end of the file),
    validating the range the server sent (blocking). An HTML page in place of a file is
    refused unless the file is one (``html_expected``). The first answer's rate-limit
    headers are noted in ``rate_bucket`` of the clients' gate."""
    request_headers = dict(headers)
    # Weights are incompressible; a compressed body would only cost CPU and break ranges.
    request_headers["Accept-Encoding"] = "identity"
    if start > 0 or end is not None:
        # No If-Range: the Hub's CDN has ETags of its own, not the content hash, so it would
        # answer every resume with the whole file. Our URLs are pinned to a commit, partial
        # files are named by their content hash, and that hash decides before promotion.
        request_headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
    opener = _open_proxied if _proxied(url) else _open_pooled
    with opener(clients, url, request_headers, what) as (answer, first, final_url, body):
        first_status = answer.status_code if final_url == url else 302
        clients.rate_gate.note(
            rate_limit_host(url), first, refused=first_status == 429, bucket=rate_bucket
        )
        if answer.status_code == 416:
            raise ProtocolViolationError(f"{what}: the server cannot serve from byte {start}")
        raise_for_status(answer, what)
        ranged = "Range" in request_headers
        if not html_expected and _is_html_page(answer, body, ranged):
            raise ProtocolViolationError(
                f"{what}: the server answered with an HTML page instead of the file "
                f"(HTTP {answer.status_code})",
                hint="A proxy, captive portal or CDN error page is in the way: check the "
                "network and HF_ENDPOINT; the partial data is kept for the next attempt.",
            )
        yield ByteStream(
            start=_body_start(answer, start, what),
            etag=_strip_etag(first.get("X-Linked-Etag") or answer.headers.get("ETag")),
            commit=first.get("X-Repo-Commit"),
            body=body,
            url=final_url,
            redirected=final_url != url,
        )


_Opened = tuple[Answer, httpx.Headers, str, BodyReader]


@contextmanager
def _open_pooled(
    clients: HttpClients, url: str, headers: dict[str, str], what: str
) -> Iterator[_Opened]:
    """Follow redirects over kept connections; the final body's connection is handed back
    (or closed, when it was not read to its end) on exit. A redirect to a URL the
    environment proxies is followed through httpx."""
    hop = _follow(clients, url, headers, what)
    if hop.response is None:
        with _open_proxied(clients, hop.url, hop.headers, what) as (answer, _, final, body):
            yield answer, hop.first, final, body
        return
    try:
        yield hop.response, hop.first, hop.response.url, hop.response.body
    finally:
        hop.response.body.release()


@dataclass(frozen=True, slots=True)
class _Hop:
    """Where following redirects over the pool stopped: at an answer, or at a URL a proxy
    must fetch (``response`` None)."""

    response: PooledResponse | None
    first: httpx.Headers
    url: str
    headers: dict[str, str]


def _follow(clients: HttpClients, url: str, headers: dict[str, str], what: str) -> _Hop:
    first: httpx.Headers | None = None
    for _ in range(MAX_REDIRECTS + 1):
        response = clients.pool.request(url, headers, what)
        first = response.headers if first is None else first
        location = response.headers.get("Location")
        if response.status_code not in _REDIRECTS or not location:
            return _Hop(response, first, url, headers)
        response.body.discard(_DRAINED_BYTES)
        next_url = urljoin(url, location)
        if Origin.of(next_url) != Origin.of(url):
            # As every client does: credentials for the hub never go to the CDN.
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = next_url
        if _proxied(url):
            return _Hop(None, first, url, headers)
    raise ProtocolViolationError(f"{what}: more than {MAX_REDIRECTS} redirects")


@contextmanager
def _open_proxied(
    clients: HttpClients, url: str, headers: dict[str, str], what: str
) -> Iterator[_Opened]:
    try:
        request = clients.bodies.build_request("GET", url, headers=headers)
        response = clients.bodies.send(request, stream=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_transport_error(exc, what) from exc
    try:
        first = response.history[0].headers if response.history else response.headers
        yield response, first, str(response.url), HttpxBody(response, what)
    finally:
        response.close()


def _proxied(url: str) -> bool:
    """Whether the environment sends ``url`` through a proxy (as httpx would)."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _strip_etag(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def is_html_file(path: str) -> bool:
    """Whether a repository file is itself a web page (so an HTML answer is no error)."""
    return path.lower().endswith((".html", ".htm", ".xhtml"))


def _is_html_page(answer: Answer, body: BodyReader, ranged: bool) -> bool:
    """Whether the answer is a web page: labelled as one, or, when a range was asked for
    and a 200 came back instead (the usual shape of an error page), starting like one."""
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        return True
    if not ranged or answer.status_code != 200:
        return False
    return body.peek(64).lstrip().lower().startswith(_HTML_STARTS)


def _body_start(answer: Answer, requested: int, what: str) -> int:
    if answer.status_code == 206:
        match = _CONTENT_RANGE_RE.match(answer.headers.get("Content-Range", ""))
        if not match:
            raise ProtocolViolationError(f"{what}: 206 without a usable Content-Range")
        got = int(match.group(1))
        if got != requested:
            raise ProtocolViolationError(f"{what}: asked for byte {requested}, got {got}")
        return got
    # A 200 to a ranged request means the server (or If-Range) wants us to start over.
    return 0
