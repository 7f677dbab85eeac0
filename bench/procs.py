"""Starting, watching and stopping the processes the benchmark runs (always by pid)."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_S = 0.05


class Registry:
    """Every process the benchmark started, so each can be stopped on any exit path."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def spawn(
        self, cmd: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``cmd`` with stdout+stderr to ``log``."""
        with log.open("ab") as out:
            proc = subprocess.Popen(
                list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
            )
        self._procs.append(proc)
        return proc

    def track(self, proc: subprocess.Popen[bytes]) -> None:
        """Remember a process started elsewhere."""
        self._procs.append(proc)

    def stop_all(self) -> None:
        """Stop every process still running: SIGTERM, then SIGKILL after 10 s."""
        for proc in reversed(self._procs):
            stop(proc)
        self._procs.clear()


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM ``proc`` by pid, SIGKILL it if it is still there after ``grace_s``."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def kill9(proc: subprocess.Popen[bytes]) -> None:
    """``kill -9`` by pid and reap."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def bytes_on_disk(roots: Iterable[Path]) -> int:
    """Bytes of regular files under ``roots`` that hold data (no symlinks, holes not counted).

    ``min(size, allocated)`` so that a sparse partial file counts what was written; a file
    preallocated with fallocate would count in full (no peer here does that).
    """
    total = 0
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in names:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    total += min(st.st_size, st.st_blocks * 512)
    return total


def proc_memory_kb(pid: int) -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of ``pid`` in KiB, ``(0, 0)`` once it is gone."""
    values = {"VmRSS:": 0, "VmHWM:": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if parts and parts[0] in values:
                    values[parts[0]] = int(parts[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values["VmRSS:"], values["VmHWM:"]


@dataclass(frozen=True)
class Sample:
    """One look at a running process: seconds since start, bytes on disk, memory."""

    t: float
    disk: int
    rss_kb: int
    hwm_kb: int


@dataclass
class Watched:
    """How a watched run went."""

    returncode: int | None
    wall_s: float
    samples: list[Sample] = field(default_factory=list)
    timed_out: bool = False
    stopped_by_watcher: bool = False
    cpu_s: float = 0.0
    """User + system CPU of the process and the children it waited for."""

    @property
    def peak_hwm_kb(self) -> int:
        """The highest VmHWM seen (0 when memory was not sampled)."""
        return max((s.hwm_kb for s in self.samples), default=0)


def _kill_unreaped(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL without reaping (Popen's kill polls, which could steal the exit from wait4)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


# A watcher gets each sample and returns True to have the process killed with SIGKILL.
Trigger = Callable[[Sample], bool]


def watch(
    proc: subprocess.Popen[bytes],
    started: float,
    timeout_s: float,
    disk_roots: Sequence[Path] = (),
    memory: bool = False,
    trigger: Trigger | None = None,
    interval_s: float = SAMPLE_S,
) -> Watched:
    """Sample ``proc`` until it exits, ``trigger`` fires (kill -9) or ``timeout_s`` passes.

    The exit time comes from a thread blocked in ``wait()``, so sampling adds no error to
    the wall time.
    """
    ended: list[float] = []
    cpu: list[float] = []
    done = threading.Event()

    def waiter() -> None:
        # wait4 rather than wait(): it also reports the CPU the process (and the children
        # it reaped, such as curl under the sequential loop's shell) used.
        _, status, usage = os.wait4(proc.pid, 0)
        ended.append(time.monotonic())
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu.append(usage.ru_utime + usage.ru_stime)
        done.set()

    threading.Thread(target=waiter, daemon=True).start()
    result = Watched(None, 0.0)
    while not done.wait(interval_s):
        now = time.monotonic()
        rss, hwm = proc_memory_kb(proc.pid) if memory else (0, 0)
        disk = bytes_on_disk(disk_roots) if disk_roots else 0
        sample = Sample(now - started, disk, rss, hwm)
        if rss or not memory:
            result.samples.append(sample)
        if trigger is not None and trigger(sample):
            result.stopped_by_watcher = True
            _kill_unreaped(proc)
        elif now - started > timeout_s:
            result.timed_out = True
            _kill_unreaped(proc)
    done.wait(30)
    result.returncode = proc.returncode
    result.wall_s = (ended[0] if ended else time.monotonic()) - started
    result.cpu_s = cpu[0] if cpu else 0.0
    return result
