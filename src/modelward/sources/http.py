"""HTTP plumbing shared by every source: the clients and JSON metadata.

Metadata calls are async (``httpx.AsyncClient``). File bodies are read by blocking
workers, one thread per connection, over the kept connections of
:class:`modelward.sources.pool.BodyPool` (:mod:`modelward.sources.ranged`): received bytes
go from the socket into large buffers and on to disk in that thread, without a hop through
the event loop per 64 KiB.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

import httpx

from modelward._version import __version__
from modelward.errors import HostileMetadataError, ProtocolViolationError
from modelward.sources.http_errors import raise_for_status, translate_transport_error
from modelward.sources.pool import BodyPool
from modelward.sources.ratelimit import METADATA_BUCKET, RateLimitGate, rate_limit_host
from modelward.units import format_size

MAX_METADATA_BYTES = 64 * 1000 * 1000
"""The largest metadata answer read: a revision of 100,000 files (the most a source may
list) takes about 30 MB; anything larger is meant to exhaust memory."""


class _ClientOptions(TypedDict):
    timeout: httpx.Timeout
    limits: httpx.Limits
    headers: dict[str, str]
    follow_redirects: bool
    trust_env: bool


def _user_agent() -> str:
    return f"modelward/{__version__}"


def _client_options(connect_timeout_s: float, read_timeout_s: float) -> _ClientOptions:
    return {
        "timeout": httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        "limits": httpx.Limits(max_connections=64, max_keepalive_connections=32),
        "headers": {"User-Agent": _user_agent()},
        "follow_redirects": True,
        "trust_env": True,
    }


class HttpClients:
    """The clients every source shares: async for metadata, blocking for file bodies.

    Each httpx client is built on first use (or given, as tests do): building one loads the
    CA bundle into a TLS context (about 20 ms), and a command that asks the hub nothing, or
    reads no file, needs none (``modelward status`` builds only the metadata client)."""

    __slots__ = ("_closed", "_lock", "_made", "_options", "pool", "rate_gate")

    def __init__(
        self,
        metadata: httpx.AsyncClient | None = None,
        bodies: httpx.Client | None = None,
        pool: BodyPool | None = None,
        rate_gate: RateLimitGate | None = None,
        *,
        options: ClientTimeouts | None = None,
    ) -> None:
        self._lock = threading.Lock()  # file bodies are read by worker threads
        self._made: dict[str, httpx.AsyncClient | httpx.Client] = {}
        self._closed = False
        if metadata is not None:
            self._made["metadata"] = metadata
        if bodies is not None:
            self._made["bodies"] = bodies
        self._options = options or ClientTimeouts()
        self.pool = pool or BodyPool()
        """File bodies over kept connections: every request no proxy takes."""
        self.rate_gate = rate_gate or RateLimitGate()
        """What each host's rate-limit headers said, shared by metadata and file requests."""

    @property
    def metadata(self) -> httpx.AsyncClient:
        """The async client for metadata calls."""
        made = self._get("metadata")
        assert isinstance(made, httpx.AsyncClient)
        return made

    @property
    def bodies(self) -> httpx.Client:
        """File bodies through a proxy (httpx speaks the proxy protocols)."""
        made = self._get("bodies")
        assert isinstance(made, httpx.Client)
        return made

    def _get(self, name: str) -> httpx.AsyncClient | httpx.Client:
        made = self._made.get(name)
        if made is not None:
            return made
        with self._lock:
            if name not in self._made:
                if self._closed:  # as a closed httpx client says: nothing new to leak
                    raise RuntimeError(f"the {name} HTTP client is closed")
                self._made[name] = self._options.build(name)
            return self._made[name]

    async def aclose(self) -> None:
        """Close the clients built and their connections."""
        with self._lock:
            self._closed = True
            made = list(self._made.values())
        for client in made:
            if isinstance(client, httpx.AsyncClient):
                await client.aclose()
            else:
                client.close()
        self.pool.close()


@dataclass(frozen=True, slots=True)
class ClientTimeouts:
    """How the httpx clients :class:`HttpClients` builds on first use wait, in seconds."""

    connect_s: float = 10.0
    read_s: float = 30.0
    stall_s: float = 30.0

    def build(self, name: str) -> httpx.AsyncClient | httpx.Client:
        """The ``metadata`` (async) or ``bodies`` (blocking) client."""
        if name == "metadata":
            return httpx.AsyncClient(**_client_options(self.connect_s, self.read_s))
        return httpx.Client(**_client_options(self.connect_s, self.stall_s))


def build_clients(
    *,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 30.0,
    stall_timeout_s: float | None = None,
) -> HttpClients:
    """Return the shared clients (TLS verification stays on; proxies from the environment,
    read when a client is first used).

    A file body that delivers no byte for ``stall_timeout_s`` (default: ``read_timeout_s``)
    is dropped, and the retry resumes it; metadata answers wait ``read_timeout_s``."""
    stall = read_timeout_s if stall_timeout_s is None else stall_timeout_s
    return HttpClients(
        pool=BodyPool(
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=stall,
            user_agent=_user_agent(),
        ),
        options=ClientTimeouts(connect_timeout_s, read_timeout_s, stall),
    )


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    what: str,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    rate_gate: RateLimitGate | None = None,
) -> object:
    """GET ``url`` and return its JSON body, with errors translated; an answer over
    ``max_bytes`` is refused as it streams in, never buffered whole. With ``rate_gate``,
    a call the host's announced limit would refuse is not made (:class:`RateLimitedError`
    says how long to wait), and every answer's limit headers are noted."""
    host = rate_limit_host(url)
    if rate_gate is not None:
        rate_gate.check(host, what, bucket=METADATA_BUCKET)
    try:
        async with client.stream("GET", url, headers=dict(headers)) as response:
            if rate_gate is not None:
                refused = response.status_code == 429
                rate_gate.note(host, response.headers, refused=refused, bucket=METADATA_BUCKET)
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
