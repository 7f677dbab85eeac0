"""Hostile answers for the fault menu: what a broken or malicious hub, proxy or CDN sends
with a 200 in place of what was asked for."""

from __future__ import annotations

from pathlib import Path

from modelward.devhub.faults import Fault
from modelward.devhub.http11 import FileBody, Response

ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1><p>The upstream server is not answering.</p></body></html>\n"
)
_HUGE_PREFIX = b'{"sha": "'


def hostile_response(fault: Fault, scratch: Path) -> Response:
    """The 200 answer ``fault`` asks for; ``scratch`` holds the huge body's file."""
    if fault.answer == "deep-json":
        depth = max(fault.answer_size, 1)
        body = b"[" * depth + b"]" * depth
        return Response(200, {"Content-Type": "application/json"}, body)
    if fault.answer == "huge-json":
        return Response(
            200, {"Content-Type": "application/json"}, file=_huge_file(scratch, fault.answer_size)
        )
    content_type = "text/html; charset=utf-8" if fault.answer == "html" else ""
    return Response(200, {"Content-Type": content_type or "application/octet-stream"}, ERROR_PAGE)


def _huge_file(scratch: Path, size: int) -> FileBody:
    """A sparse file of ``size`` bytes (the start of a JSON string, then NULs): sent with
    ``sendfile`` like any file, costing neither memory nor disk."""
    size = max(size, len(_HUGE_PREFIX))
    path = scratch / f"huge-{size}.json"
    if not path.is_file() or path.stat().st_size != size:
        scratch.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.write(_HUGE_PREFIX)
            fh.truncate(size)
    return FileBody(path, 0, size)
