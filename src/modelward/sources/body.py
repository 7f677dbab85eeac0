"""Reading a response body into the caller's buffer, straight from the socket when possible.

This is the path of requests that go through a proxy, which httpx handles; every other
body comes from :mod:`modelward.sources.pool`, whose connections are kept.

httpx hands a body over in 64 KiB pieces, each passing through h11 and httpx's stream
wrappers; at loopback or LAN speeds that per-piece work, not the network, caps a connection
far below what it carries. Once the headers are in and h11 has handed over the body bytes
it buffered with them, the rest of a ``Content-Length`` body is exactly the next bytes on
the socket, so they are received with ``recv_into`` into large buffers. The connection is
closed afterwards: h11 never saw those bytes, so it cannot be reused.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Protocol

import httpx

from modelward.errors import IncompleteTransferError
from modelward.sources.http_errors import translate_transport_error


class BodyReader(Protocol):
    """A response body read into caller buffers (blocking; one thread reads at a time)."""

    @property
    def remaining(self) -> int | None:
        """Body bytes still to come, when the response declared its length."""
        ...

    def readinto(self, view: memoryview) -> int:
        """Fill the start of ``view``; return the byte count (0 at the end of the body)."""
        ...

    def peek(self, size: int) -> bytes:
        """Up to ``size`` of the body's first bytes, left for the reads (call before any)."""
        ...

    def abort(self) -> None:
        """Make a read blocked in another thread return now (the connection is dropped)."""
        ...


class HttpxBody:
    """An httpx response body (a proxied request), read from the socket when possible."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        self._response = response
        self._what = what
        # Decoded: a server that compresses despite ``Accept-Encoding: identity`` still
        # delivers the file's bytes (such a body has no usable length and skips the socket).
        self._chunks: Iterator[bytes] = response.iter_bytes()
        self._pending = memoryview(b"")
        self._remaining = _declared_length(response)
        stream = response.extensions.get("network_stream")
        self._abort_socket = _socket_of(stream)
        # The fast path needs a body whose end is known and a socket whose reads yield
        # exactly this response's bytes.
        self._socket = _direct_socket(stream) if self._remaining is not None else None
        if self._socket is not None:
            self._socket.settimeout(_read_timeout(response))
        self._primed = False

    @property
    def remaining(self) -> int | None:
        """Body bytes still to come, when the response declared its length."""
        return None if self._remaining is None else self._remaining + len(self._pending)

    def readinto(self, view: memoryview) -> int:
        """Fill the start of ``view``; return the byte count (0 at the end of the body)."""
        if not view:
            return 0
        if self._pending:
            return self._take_pending(view)
        if self._socket is not None and self._primed:
            return self._recv_into(self._socket, view)
        if not self._prime():
            return 0
        return self._take_pending(view)

    def peek(self, size: int) -> bytes:
        """Up to ``size`` of the body's first bytes, left for the reads (call before any)."""
        if not self._primed:
            self._prime()
        return bytes(self._pending[:size])

    def _prime(self) -> bool:
        """The first read drains what h11 buffered with the headers; after it, h11's buffer
        is empty and the socket holds the rest. False at the end of the body."""
        self._primed = True
        chunk = self._next_chunk()
        if not chunk:
            return False
        if self._remaining is not None:
            self._remaining -= len(chunk)
        self._pending = memoryview(chunk)
        return True

    def abort(self) -> None:
        """Make a read blocked in another thread return now (the connection is dropped)."""
        if self._abort_socket is not None:
            wake_reader(self._abort_socket)

    def _take_pending(self, view: memoryview) -> int:
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _next_chunk(self) -> bytes:
        try:
            return next(self._chunks, b"")
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, self._what) from exc

    def _recv_into(self, sock: socket.socket, view: memoryview) -> int:
        assert self._remaining is not None
        n = recv_body_into(sock, view, self._remaining, self._what)
        self._remaining -= n
        return n


def recv_body_into(sock: socket.socket, view: memoryview, remaining: int, what: str) -> int:
    """Receive up to ``remaining`` body bytes straight into ``view`` (0 once none remain);
    a timeout, a failure or an early end is an :class:`IncompleteTransferError`."""
    if remaining == 0:
        return 0
    try:
        n = sock.recv_into(view[:remaining])
    except TimeoutError as exc:
        raise IncompleteTransferError(f"{what}: the server stopped sending (read timeout)") from exc
    except OSError as exc:
        raise IncompleteTransferError(f"{what}: the connection failed ({exc})") from exc
    if n == 0:
        raise IncompleteTransferError(
            f"{what}: the connection ended early, {remaining} bytes short"
        )
    return n


def wake_reader(sock: socket.socket) -> None:
    """Make a read blocked on ``sock`` in another thread return now (the connection is
    dropped): the plain socket's shutdown, also under TLS, since it only has to wake it."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _declared_length(response: httpx.Response) -> int | None:
    """The body's length when its bytes arrive unframed and unencoded, else None."""
    headers = response.headers
    if "Transfer-Encoding" in headers:
        return None
    if headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    length = headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _read_timeout(response: httpx.Response) -> float | None:
    timeouts = response.request.extensions.get("timeout", {})
    value = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _extra(stream: object, name: str) -> object:
    """One of httpcore's ``network_stream`` extras (None when there is no such stream)."""
    get_extra_info = getattr(stream, "get_extra_info", None)
    return get_extra_info(name) if callable(get_extra_info) else None


def _socket_of(stream: object) -> socket.socket | None:
    sock = _extra(stream, "socket")
    return sock if isinstance(sock, socket.socket) else None


def _direct_socket(stream: object) -> socket.socket | None:
    """The socket whose reads yield the body itself: plain TCP, or the TLS session's own
    ``SSLSocket``. Not a TLS tunnel through an HTTPS proxy, whose inner session is an
    ``ssl.SSLObject`` over the outer socket."""
    sock = _socket_of(stream)
    if sock is None:
        return None
    ssl_object = _extra(stream, "ssl_object")
    if isinstance(sock, ssl.SSLSocket):
        return None if isinstance(ssl_object, ssl.SSLObject) else sock
    return sock if ssl_object is None else None
