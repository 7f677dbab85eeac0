"""Kept-alive HTTP/1.1 connections for file bodies, read straight into the caller's buffers.

Why not httpx for bodies: httpx hands a body over in 64 KiB pieces through h11 and its
stream wrappers, which caps a connection far below what loopback or a LAN carries; reading
past it with ``recv_into`` is fast but leaves httpx's connection state mid-body, so the
connection had to be closed after every segment. On the real Hub that meant a TCP and TLS
handshake, and a fresh slow start, per 32 MiB segment. Here h11 (httpx's own HTTP/1.1
parser) writes the request and parses the answer's head; the body of known length is
received with ``recv_into``, after which the socket sits exactly at the next answer and goes
back to the pool. New connections to a host resume its last TLS session.

Requests only: no redirects, proxies or cookies; :func:`modelward.sources.http.open_range`
follows redirects, and a proxied URL goes through httpx instead.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
import httpx

from modelward.errors import (
    ConfigError,
    IncompleteTransferError,
    ModelwardError,
    ProtocolViolationError,
    SourceUnavailableError,
)
from modelward.sources.body import recv_body_into, wake_reader
from modelward.sources.http_errors import untrusted_certificate

_HEAD_READ_BYTES = 64 * 1024
_MAX_IDLE_PER_ORIGIN = 32
KEEPALIVE_S = 15.0
"""A connection idle longer is not used again: a NAT or firewall may have dropped it without
a word, and a request on it would wait for the read timeout, not fail at once."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port: what a connection can be reused for."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of an absolute http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ConfigError(
                f"{url!r} is not an http(s) URL",
                hint="Check HF_ENDPOINT / --endpoint or the catalog's URLs.",
            )
        return cls(parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return host if default else f"{host}:{self.port}"


class Connection:
    """One socket (plain or TLS) to an origin, used for one request at a time."""

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        self.origin = origin
        self.sock = sock
        self.requests = 0
        self.idle_since = time.monotonic()

    @property
    def tls_session(self) -> ssl.SSLSession | None:
        """The TLS session to resume on the next new connection (None on plain TCP)."""
        return self.sock.session if isinstance(self.sock, ssl.SSLSocket) else None

    def idle_s(self) -> float:
        """Seconds since the connection was handed back."""
        return time.monotonic() - self.idle_since

    def looks_alive(self) -> bool:
        """False when the server closed an idle connection (it is readable: EOF or junk)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def shut_down(self) -> None:
        """Cut the connection under a thread that may be blocked reading it."""
        wake_reader(self.sock)

    def close(self) -> None:
        """Close the socket."""
        with contextlib.suppress(OSError):
            self.sock.close()


class PooledBody:
    """A response body: the bytes parsed with the head first, then the socket itself."""

    def __init__(self, pool: BodyPool, conn: Connection, head: _Head, what: str) -> None:
        self._pool = pool
        self._conn = conn
        self._what = what
        self._pending = memoryview(head.leftover)
        self._remaining = head.length - len(head.leftover) if head.length is not None else None
        self._parser = head.parser  # only for bodies without a length (chunked)
        self._reusable = head.reusable
        self._done = False

    @property
    def remaining(self) -> int | None:
        """Body bytes still to come, when the response declared its length."""
        return None if self._remaining is None else self._remaining + len(self._pending)

    def readinto(self, view: memoryview) -> int:
        """Fill the start of ``view``; return the byte count (0 at the end of the body)."""
        if not view:
            return 0
        if self._pending:
            n = min(len(view), len(self._pending))
            view[:n], self._pending = self._pending[:n], self._pending[n:]
            return n
        if self._remaining is None:
            return self._read_framed(view)
        return self._recv_into(view)

    def peek(self, size: int) -> bytes:
        """Up to ``size`` of the body's first bytes, left for the reads (call before any)."""
        if not self._pending:
            if self._remaining is None:
                self._fill_framed()
            elif self._remaining:
                # The head may have come alone: the first bytes are still on the socket.
                first = memoryview(bytearray(min(size, self._remaining)))
                self._pending = first[: self._recv_into(first)]
        return bytes(self._pending[:size])

    def abort(self) -> None:
        """Make a read blocked in another thread return now (the connection is dropped)."""
        if self._done:
            return  # handed back already: the connection may be serving someone else
        self._reusable = False
        self._conn.shut_down()

    def discard(self, limit: int) -> None:
        """Read and drop a small body (a redirect's) so the connection can be kept; a
        larger one closes it."""
        left = self.remaining
        if left is not None and left <= limit:
            sink = memoryview(bytearray(left))
            with contextlib.suppress(IncompleteTransferError):
                while self.readinto(sink):
                    pass
        self.release()

    def release(self) -> None:
        """Hand the connection back when the body was read to its end, else close it."""
        if self._done:
            return
        self._done = True
        finished = self.remaining == 0 or (self._remaining is None and self._parser is None)
        self._pool.give_back(self._conn, reusable=self._reusable and finished)

    def _recv_into(self, view: memoryview) -> int:
        assert self._remaining is not None
        try:
            n = recv_body_into(self._conn.sock, view, self._remaining, self._what)
        except IncompleteTransferError:
            self._reusable = False
            raise
        self._remaining -= n
        return n

    def _read_framed(self, view: memoryview) -> int:
        if not self._fill_framed():
            return 0
        return self.readinto(view)

    def _fill_framed(self) -> bool:
        """Next piece of a chunked body through h11; False at its end."""
        parser = self._parser
        if parser is None:
            return False
        while True:
            event = _next_event(parser, self._conn, self._what)
            if isinstance(event, h11.Data):
                self._pending = memoryview(bytes(event.data))
                return True
            if isinstance(event, h11.EndOfMessage):
                self._parser = None
                return False


@dataclass(slots=True)
class _Head:
    """A response's status line and headers, with what h11 parsed of the body alongside."""

    status_code: int
    headers: httpx.Headers
    leftover: bytes
    length: int | None
    parser: h11.Connection | None
    reusable: bool


@dataclass(slots=True)
class PooledResponse:
    """A response whose body has not been read yet."""

    url: str
    status_code: int
    headers: httpx.Headers
    body: PooledBody
    new_connection: bool


class BodyPool:
    """Connections kept per origin, shared by every transfer thread (thread-safe)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 30.0,
        user_agent: str = "modelward",
    ) -> None:
        self._ssl = ssl_context
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._idle: dict[Origin, list[Connection]] = {}
        self._sessions: dict[Origin, ssl.SSLSession] = {}
        self._busy: set[Connection] = set()
        self._closed = False

    def request(self, url: str, headers: Mapping[str, str], what: str) -> PooledResponse:
        """Send a GET for ``url`` and return the answer's head (blocking). A kept
        connection the server closed meanwhile is replaced once, silently."""
        origin = Origin.of(url)
        conn = self._take_idle(origin)
        if conn is not None:
            try:
                return self._exchange(conn, url, headers, what, new=False)
            except _StaleConnectionError:
                pass
        conn = self._connect(origin, what)
        try:
            return self._exchange(conn, url, headers, what, new=True)
        except _StaleConnectionError as exc:
            raise IncompleteTransferError(f"{what}: the connection ended early ({exc})") from exc

    def give_back(self, conn: Connection, *, reusable: bool) -> None:
        """Keep ``conn`` for the next request to its origin, or close it."""
        session = conn.tls_session if reusable else None
        with self._lock:
            self._busy.discard(conn)
            if session is not None:
                self._sessions[conn.origin] = session
            idle = self._idle.setdefault(conn.origin, [])
            keep = reusable and not self._closed and len(idle) < _MAX_IDLE_PER_ORIGIN
            if keep:
                conn.idle_since = time.monotonic()
                idle.append(conn)
        if not keep:
            conn.close()

    def close(self) -> None:
        """Close every idle connection, and cut the ones in use (their readers return with
        an error, as after a dropped connection)."""
        with self._lock:
            self._closed = True
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
            busy = list(self._busy)
        for conn in idle:
            conn.close()
        for conn in busy:
            conn.shut_down()

    def _take_idle(self, origin: Origin) -> Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
                if conn is not None:
                    self._busy.add(conn)
            if conn is None or (conn.idle_s() < KEEPALIVE_S and conn.looks_alive()):
                return conn
            self.give_back(conn, reusable=False)

    def _connect(self, origin: Origin, what: str) -> Connection:
        try:
            sock = socket.create_connection(
                (origin.host, origin.port), timeout=self._connect_timeout_s
            )
        except OSError as exc:
            raise SourceUnavailableError(f"{what}: cannot connect ({exc})") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.scheme == "https":
                sock = self._wrap(sock, origin, what)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(self._read_timeout_s)
        conn = Connection(origin, sock)
        with self._lock:
            if self._closed:
                conn.close()
                raise IncompleteTransferError(f"{what}: the transfers are shutting down")
            self._busy.add(conn)
        return conn

    def _wrap(self, sock: socket.socket, origin: Origin, what: str) -> ssl.SSLSocket:
        with self._lock:
            session = self._sessions.get(origin)
        try:
            return self._tls_context().wrap_socket(
                sock, server_hostname=origin.host, session=session
            )
        except ssl.SSLCertVerificationError as exc:
            raise untrusted_certificate(what, exc) from exc
        except (OSError, ssl.SSLError) as exc:
            raise SourceUnavailableError(f"{what}: the TLS handshake failed ({exc})") from exc

    def _tls_context(self) -> ssl.SSLContext:
        """Made on first use (loading a CA bundle takes a while): httpx's own rules,
        SSL_CERT_FILE / SSL_CERT_DIR, else certifi's bundle."""
        with self._lock:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(trust_env=True)
            return self._ssl

    def _exchange(
        self, conn: Connection, url: str, headers: Mapping[str, str], what: str, *, new: bool
    ) -> PooledResponse:
        try:
            head = _send_and_read_head(conn, url, headers, self._user_agent, what, fresh=new)
        except BaseException:
            self.give_back(conn, reusable=False)
            raise
        conn.requests += 1
        return PooledResponse(
            url=url,
            status_code=head.status_code,
            headers=head.headers,
            body=PooledBody(self, conn, head, what),
            new_connection=new,
        )


class _StaleConnectionError(Exception):
    """A kept connection failed before the first byte of the answer: try a new one."""


def _request_bytes(
    parser: h11.Connection, url: str, origin: Origin, headers: Mapping[str, str], agent: str
) -> bytes:
    # httpx's URL percent-encodes what a redirect may carry unencoded (UTF-8 paths).
    target = httpx.URL(url).raw_path
    fields = [("Host", origin.host_header), ("User-Agent", agent), *headers.items()]
    request = h11.Request(method="GET", target=target, headers=fields)
    return parser.send(request) + (parser.send(h11.EndOfMessage()) or b"")


def _send_and_read_head(
    conn: Connection,
    url: str,
    headers: Mapping[str, str],
    agent: str,
    what: str,
    *,
    fresh: bool,
) -> _Head:
    parser = h11.Connection(our_role=h11.CLIENT)
    try:
        data = _request_bytes(parser, url, conn.origin, headers, agent)
    except (h11.LocalProtocolError, httpx.InvalidURL, UnicodeError) as exc:
        raise ProtocolViolationError(f"{what}: the request cannot be made ({exc})") from exc
    try:
        conn.sock.sendall(data)
        response = _read_response(parser, conn, what)
    except (_StaleConnectionError, OSError) as exc:
        # Only a failure before any byte of the answer: a timeout while waiting for it is
        # raised as a transfer error and never retried here.
        if fresh:
            raise _translate(exc, what) from exc
        raise _StaleConnectionError(str(exc)) from exc
    return _head_of(parser, conn, response, what)


def _translate(exc: BaseException, what: str) -> ModelwardError:
    if isinstance(exc, ModelwardError):
        return exc
    if isinstance(exc, TimeoutError):
        return IncompleteTransferError(f"{what}: the server did not answer (read timeout)")
    return IncompleteTransferError(f"{what}: the connection failed ({exc})")


def _read_response(parser: h11.Connection, conn: Connection, what: str) -> h11.Response:
    while True:
        event = _next_event(parser, conn, what)
        if isinstance(event, h11.Response):
            return event
        # An informational answer (100 Continue...) comes before the real one.


def _next_event(parser: h11.Connection, conn: Connection, what: str) -> object:
    closed = False
    while True:
        try:
            event = parser.next_event()
        except h11.RemoteProtocolError as exc:
            if closed:  # the connection ended inside a chunked body: the retry resumes it
                raise IncompleteTransferError(f"{what}: the connection ended early") from exc
            raise ProtocolViolationError(f"{what}: the server broke HTTP/1.1 ({exc})") from exc
        if event is not h11.NEED_DATA:
            if isinstance(event, h11.ConnectionClosed):
                raise IncompleteTransferError(f"{what}: the server closed the connection")
            return event
        try:
            chunk = conn.sock.recv(_HEAD_READ_BYTES)
        except TimeoutError as exc:
            raise IncompleteTransferError(f"{what}: the server stopped sending") from exc
        except OSError as exc:
            if parser.their_state is h11.SEND_RESPONSE:
                raise _StaleConnectionError(str(exc)) from exc
            raise IncompleteTransferError(f"{what}: the connection failed ({exc})") from exc
        if not chunk and parser.their_state is h11.SEND_RESPONSE:
            raise _StaleConnectionError("closed before answering")
        closed = not chunk
        parser.receive_data(chunk)


def _head_of(parser: h11.Connection, conn: Connection, response: h11.Response, what: str) -> _Head:
    # Raw bytes: httpx decodes each value as its bytes allow (a UTF-8 Location too).
    headers = httpx.Headers(list(response.headers))
    length = _declared_length(headers)
    leftover, ended = _buffered_body(parser, conn, length, what)
    if ended:
        length = len(leftover)  # a 204 or 304 has no body whatever its Content-Length says
    framed = length is not None or "chunked" in headers.get("Transfer-Encoding", "").lower()
    reusable = (
        framed
        and response.http_version == b"1.1"
        and "close" not in headers.get("Connection", "").lower()
    )
    return _Head(
        status_code=response.status_code,
        headers=headers,
        leftover=leftover,
        length=length,
        parser=None if length is not None or ended else parser,
        reusable=reusable,
    )


def _declared_length(headers: httpx.Headers) -> int | None:
    """The body's length when its bytes arrive unframed, else None (chunked, or until close)."""
    if "Transfer-Encoding" in headers:
        return None
    value = headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _buffered_body(
    parser: h11.Connection, conn: Connection, length: int | None, what: str
) -> tuple[bytes, bool]:
    """The body bytes h11 received with the head; with a declared length only those (the
    rest is read from the socket), else nothing yet. True when the body has ended."""
    if length is None:
        return b"", False
    pieces: list[bytes] = []
    while True:
        event = parser.next_event()
        if isinstance(event, h11.Data):
            pieces.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(pieces), True
        else:
            return b"".join(pieces), False
