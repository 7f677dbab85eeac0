"""Just enough HTTP/1.1 on asyncio streams: requests in, response heads out.

Hand-rolled on purpose: the fault menu needs byte-exact control of the connection (cut
after N bytes, lie about Content-Length, stall), and the fast path uses ``sendfile``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, unquote

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024


class BadRequestError(Exception):
    """The peer sent something that is not a request we can parse."""


@dataclass(frozen=True)
class Request:
    """A parsed request: ``path`` is still percent-encoded, ``segments`` are decoded."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    version: str = "HTTP/1.1"

    @property
    def segments(self) -> list[str]:
        """Path segments, each percent-decoded (so ``refs%2Fpr%2F1`` stays one segment)."""
        return [unquote(s) for s in self.path.strip("/").split("/")] if self.path != "/" else []

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open after this exchange."""
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return conn == "keep-alive"
        return conn != "close"


@dataclass(frozen=True)
class FileBody:
    """A response body read from a file: ``length`` bytes at ``offset``."""

    path: Path
    offset: int
    length: int


@dataclass
class Response:
    """A response: status, headers, and a body in memory or in a file."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: FileBody | None = None
    label: str = ""  # "{repo_id}/{path}" for file responses, so faults can match it

    @property
    def body_length(self) -> int:
        """How many body bytes a GET would carry."""
        return self.file.length if self.file is not None else len(self.body)


def json_response(status: int, value: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    body = json.dumps(value).encode()
    return Response(
        status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body
    )


def error_response(status: int, message: str, code: str | None = None) -> Response:
    """A Hub-style error: ``{"error": message}`` plus ``X-Error-Code`` when given."""
    headers = {"X-Error-Code": code, "X-Error-Message": message} if code else {}
    return json_response(status, {"error": message}, headers)


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None = None
) -> Request | None:
    """Read one request; None when the peer closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequestError("connection closed mid-request") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequestError("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError as exc:
        raise BadRequestError(f"bad request line: {lines[0]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    path, _, raw_query = target.partition("?")
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY_BYTES:
        raise BadRequestError("request body too large")
    if length and writer is not None and headers.get("expect", "").lower() == "100-continue":
        # curl waits a second for this before sending a POST body over 1 KiB.
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await reader.readexactly(length) if length else b""
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    return Request(method.upper(), path, query, headers, body, version)


def encode_head(status: int, headers: dict[str, str]) -> bytes:
    """The status line and headers of a response, ready to write."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
