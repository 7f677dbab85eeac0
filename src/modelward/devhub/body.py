"""Sending a response body, exactly as fast or as badly as the fault plan says.

No body fault: ``sendfile`` straight from the page cache (GB/s on loopback). Otherwise
chunks are read and written one by one so that a rate cap, bit flips, a stall, a short body
or a reset land on exact byte offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
from dataclasses import dataclass

from modelward.devhub.faults import Fault
from modelward.devhub.http11 import FileBody

_SENDFILE_CHUNK = 64 << 20
_CHUNK = 1 << 20
_RATE_TICKS_PER_S = 20


@dataclass(frozen=True)
class BodyOutcome:
    """How a body send ended: bytes written and whether the connection is still usable."""

    bytes_sent: int
    connection_ok: bool


async def send_file(writer: asyncio.StreamWriter, body: FileBody) -> BodyOutcome:
    """Send ``body`` with ``sendfile``; counts what got out if the peer goes away."""
    loop = asyncio.get_running_loop()
    sent = 0
    with body.path.open("rb") as src:
        try:
            while sent < body.length:
                count = min(_SENDFILE_CHUNK, body.length - sent)
                sent += await loop.sendfile(writer.transport, src, body.offset + sent, count)
        except (ConnectionError, OSError):
            return BodyOutcome(sent, False)
    return BodyOutcome(sent, True)


@dataclass(frozen=True)
class _Knobs:
    """The body faults of one response, merged: lowest cap, first cut, all stalls and flips."""

    rate: int
    cut_at: int | None
    cut_reset: bool
    stalls: tuple[tuple[int, float | None], ...]
    corrupt: tuple[tuple[int, int], ...]


def _knobs(faults: list[Fault], length: int) -> _Knobs:
    rates = [f.rate_bytes_per_s for f in faults if f.kind == "rate" and f.rate_bytes_per_s > 0]
    cuts = sorted((f.after_bytes, f.reset) for f in faults if f.kind in ("drop", "short"))
    cut_at, cut_reset = cuts[0] if cuts and cuts[0][0] < length else (None, False)
    stalls = tuple(sorted((f.after_bytes, f.stall_s) for f in faults if f.kind == "stall"))
    corrupt = tuple(
        (f.offset_start, f.offset_end if f.offset_end is not None else f.offset_start + 1)
        for f in faults
        if f.kind == "corrupt"
    )
    return _Knobs(min(rates) if rates else 0, cut_at, cut_reset, stalls, corrupt)


def _flip(data: bytes, file_pos: int, ranges: tuple[tuple[int, int], ...]) -> bytes:
    out = bytearray(data)
    for start, end in ranges:
        lo, hi = max(start, file_pos), min(end, file_pos + len(data))
        for i in range(lo - file_pos, hi - file_pos):
            out[i] ^= 0xFF
    return bytes(out)


async def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST once the bytes already written have left this process."""
    await writer.drain()
    sock = writer.get_extra_info("socket")
    # Give the kernel a moment to put written bytes on the wire: an RST discards unsent data.
    await asyncio.sleep(0.05)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _stall(seconds: float | None, stopping: asyncio.Event) -> None:
    if seconds is None:
        await stopping.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)


def _next_stop(knobs: _Knobs, pos: int, length: int) -> int:
    stops = [length] + [a for a, _ in knobs.stalls if a > pos]
    if knobs.cut_at is not None:
        stops.append(knobs.cut_at)
    return min(stops)


async def send_faulty(
    writer: asyncio.StreamWriter, data: FileBody, faults: list[Fault], stopping: asyncio.Event
) -> BodyOutcome:
    """Send ``data`` chunk by chunk, applying rate caps, flips, stalls, cuts and resets."""
    knobs = _knobs(faults, data.length)
    chunk_max = _CHUNK
    if knobs.rate:
        chunk_max = max(1024, min(_CHUNK, knobs.rate // _RATE_TICKS_PER_S))
    pos, started = 0, time.monotonic()
    fd = os.open(data.path, os.O_RDONLY)
    try:
        while True:
            for after, seconds in knobs.stalls:
                if after == pos:
                    await writer.drain()
                    await _stall(seconds, stopping)
            if pos == knobs.cut_at:
                if knobs.cut_reset:
                    await _reset(writer)
                else:
                    await writer.drain()
                    writer.close()
                return BodyOutcome(pos, False)
            if pos >= data.length or stopping.is_set():
                return BodyOutcome(pos, pos >= data.length)
            size = min(chunk_max, _next_stop(knobs, pos, data.length) - pos)
            chunk = os.pread(fd, size, data.offset + pos)
            if knobs.corrupt:
                chunk = _flip(chunk, data.offset + pos, knobs.corrupt)
            writer.write(chunk)
            await writer.drain()
            pos += len(chunk)
            if knobs.rate:
                ahead = pos / knobs.rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
    except (ConnectionError, OSError):
        return BodyOutcome(pos, False)
    finally:
        os.close(fd)
