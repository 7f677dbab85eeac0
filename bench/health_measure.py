"""What the integrity benchmark measures with: wall and CPU time, bytes read, page cache.

Everything here is in-process: ``Meter`` reads ``/proc/self/io`` (``rchar``: bytes the
process's read calls returned, page cache hits included; ``read_bytes``: what the block
layer fetched from disk), ``getrusage`` (this process, all threads, plus children it
reaped) and ``/proc/stat`` (what the rest of the machine did meanwhile).
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import threading
import time
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
_READ_BUFFER = 8 * 1024 * 1024


@dataclass(frozen=True)
class Usage:
    """What one measured call cost."""

    wall_s: float
    cpu_s: float
    """CPU of this process (every thread) and of the children it reaped meanwhile."""
    hub_cpu_s: float
    """CPU of the hub process meanwhile (0 when no hub pid was given)."""
    others_cpu_s: float
    """CPU every other process on the machine used meanwhile (busy time in /proc/stat minus
    ours and the hub's): the other engineer's tests, say."""
    rchar: int
    read_bytes: int


def _machine_busy_s() -> float:
    with open("/proc/stat", encoding="ascii") as fh:
        fields = fh.readline().split()
    # cpu user nice system idle iowait irq softirq steal ...: busy = user..system + irq.
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    return (user + nice + system + irq + softirq) * _TICK_S


def _proc_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    return (int(rest[11]) + int(rest[12])) * _TICK_S


def _own_cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _proc_io() -> tuple[int, int]:
    values: dict[str, int] = {}
    with open("/proc/self/io", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            values[key] = int(value)
    return values["rchar"], values["read_bytes"]


@dataclass(frozen=True)
class _Snapshot:
    t: float
    own_cpu: float
    hub_cpu: float
    busy: float
    rchar: int
    read_bytes: int


class Meter:
    """``with Meter() as m: ...`` then ``m.usage``: wall, CPU and bytes read of the block."""

    _io_overhead = 0

    def __init__(self, hub_pid: int | None = None) -> None:
        self.hub_pid = hub_pid
        self._start: _Snapshot | None = None
        self.usage: Usage | None = None

    def _snapshot_open(self) -> _Snapshot:
        busy, hub = _machine_busy_s(), _proc_cpu_s(self.hub_pid)
        own = _own_cpu_s()
        # /proc/self/io is read last on entry and first on exit, so that the meter's own
        # reads of /proc fall outside the window, except this one read (subtracted below).
        rchar, read_bytes = _proc_io()
        return _Snapshot(time.perf_counter(), own, hub, busy, rchar, read_bytes)

    def _snapshot_close(self) -> _Snapshot:
        t = time.perf_counter()
        rchar, read_bytes = _proc_io()
        own = _own_cpu_s()
        return _Snapshot(t, own, _proc_cpu_s(self.hub_pid), _machine_busy_s(), rchar, read_bytes)

    def __enter__(self) -> Meter:
        self._start = self._snapshot_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end, start = self._snapshot_close(), self._start
        assert start is not None
        own, hub = end.own_cpu - start.own_cpu, end.hub_cpu - start.hub_cpu
        self.usage = Usage(
            wall_s=end.t - start.t,
            cpu_s=own,
            hub_cpu_s=hub,
            others_cpu_s=max(0.0, end.busy - start.busy - own - hub),
            rchar=max(0, end.rchar - start.rchar - Meter._io_overhead),
            read_bytes=end.read_bytes - start.read_bytes,
        )

    @classmethod
    def calibrate(cls) -> int:
        """Measure (and from then on subtract) the bytes an empty window reads."""
        cls._io_overhead = 0
        samples = []
        for _ in range(5):
            with Meter() as m:
                pass
            assert m.usage is not None
            samples.append(m.usage.rchar)
        cls._io_overhead = min(samples)
        return cls._io_overhead


def measured(meter: Meter) -> Usage:
    """The usage of a finished meter (for type checkers: it is set on exit)."""
    assert meter.usage is not None
    return meter.usage


class LoopThread:
    """An asyncio loop in a daemon thread, so the driver stays plain blocking code and
    modelward's coroutines still run in this process (where ``Meter`` sees them)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bench-loop")
        self._thread.daemon = True

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


def can_drop_page_cache() -> bool:
    """Whether this process may write ``/proc/sys/vm/drop_caches`` (root only)."""
    return os.access("/proc/sys/vm/drop_caches", os.W_OK)


def drop_page_cache() -> None:
    """Write back dirty pages, then drop the page cache, dentries and inodes (machine-wide)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as fh:
        fh.write("3\n")


def read_through(paths: Iterable[Path]) -> int:
    """Read every file once (into the page cache); returns the bytes read."""
    buf = bytearray(_READ_BUFFER)
    total = 0
    for path in paths:
        with path.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                total += n
    return total


def openssl_sha256(paths: Sequence[Path], hub_pid: int | None) -> tuple[Usage, dict[str, str]]:
    """``openssl dgst -sha256`` over ``paths`` in one process: its usage and digests."""
    cmd = ["openssl", "dgst", "-sha256", *map(str, paths)]
    with Meter(hub_pid) as meter:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=3600)
    digests = {}
    for line in out.stdout.splitlines():
        # "SHA2-256(/path)= hex" (OpenSSL 3) or "SHA256(/path)= hex" (1.1).
        name, _, digest = line.rpartition("= ")
        digests[name.split("(", 1)[1].removesuffix(")")] = digest.strip()
    return measured(meter), digests


def flip_bytes(path: Path, offset: int, length: int) -> None:
    """Damage ``length`` bytes at ``offset`` in place (each byte XOR 0xFF)."""
    fd = os.open(path, os.O_RDWR)
    try:
        original = os.pread(fd, length, offset)
        os.pwrite(fd, bytes(b ^ 0xFF for b in original), offset)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Traffic:
    """File bytes the hub sent, from its request log."""

    bytes_sent: int
    requests: int


def hub_file_traffic(url: str, settle_s: float = 0.3) -> Traffic:
    """Body bytes and count of file responses (resolve and CDN, 200/206) in the log.

    A request is logged when its body ends, hence the short wait first.
    """
    time.sleep(settle_s)
    records = httpx.get(f"{url}/_devhub/log", timeout=30).raise_for_status().json()
    files = [
        r
        for r in records
        if r["status"] in (200, 206)
        and r["method"] == "GET"
        and ("/resolve/" in r["path"] or r["path"].startswith("/cdn-lfs/"))
    ]
    return Traffic(sum(int(r["bytes_sent"]) for r in files), len(files))
