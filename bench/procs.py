"""Starting, watching and stopping the processes the benchmark runs (always by pid)."""

from __future__ import annotations

import contextlib
import ctypes
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
TREE_SCAN_S = 0.25
_PR_SET_CHILD_SUBREAPER = 36
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux), so a service a client left behind can be reaped.

    ``modelward pull`` hands its download to a background service it starts in a new
    session; when the command exits, that service becomes our child and ``wait4`` gives its
    CPU and peak RSS.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


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
        for pid in list(ADOPTED):
            stop_pid(pid)


# Descendants of our runs (modelward's background services) not yet stopped: stopped by
# ``Registry.stop_all`` on every exit path.
ADOPTED: set[int] = set()


def _stat_fields(pid: int) -> list[str]:
    """``/proc/PID/stat`` after the command name (field 3 onwards); [] once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            raw = fh.read()
    except OSError:
        return []
    return raw.rsplit(")", 1)[1].split()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU of ``pid`` and its reaped children so far (0 once it is gone)."""
    fields = _stat_fields(pid)
    if len(fields) < 15:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / _CLK_TCK


def descendants(roots: set[int]) -> set[int]:
    """Every live process under ``roots`` (by parent pid), roots excluded."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if len(fields) > 1:
                parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = set(roots)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found - roots
        found |= frontier
    return found


def stop_pid(pid: int, grace_s: float = 10.0) -> int:
    """SIGTERM a descendant by pid, SIGKILL after ``grace_s``; its ru_maxrss (KiB) if we
    could reap it (it was adopted by us), else 0."""
    ADOPTED.discard(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            reaped, _, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:  # not ours to reap: wait until it is gone
            if not os.path.exists(f"/proc/{pid}"):
                return 0
            reaped, usage = 0, None
        if reaped and usage is not None:
            return int(usage.ru_maxrss)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        return int(os.wait4(pid, 0)[2].ru_maxrss)
    return 0


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
    """User + system CPU of the process, the children it waited for and (``tree``) the
    descendants it left running when it exited (read then, before they are stopped)."""
    tree_cpu_s: float = 0.0
    """The part of ``cpu_s`` used by descendants left running (modelward's service)."""
    tree_maxrss_kb: int = 0
    """The largest ru_maxrss of those descendants, from ``wait4`` once we stopped them."""
    tree_pids: int = 0

    @property
    def peak_hwm_kb(self) -> int:
        """The highest VmHWM seen of any process of the run (0 when memory was not sampled)."""
        return max((s.hwm_kb for s in self.samples), default=0)


def _kill_unreaped(proc: subprocess.Popen[bytes], tree: set[int]) -> None:
    """SIGKILL without reaping (Popen's kill polls, which could steal the exit from wait4),
    and every descendant seen (kill -9 of modelward is of the service that downloads)."""
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


# A watcher gets each sample and returns True to have the process killed with SIGKILL.
Trigger = Callable[[Sample], bool]


class _Tree:
    """The run's process and, when asked, its descendants, rescanned every TREE_SCAN_S."""

    def __init__(self, pid: int, enabled: bool) -> None:
        self.pid, self.enabled = pid, enabled
        self.extra: set[int] = set()
        self._scanned = 0.0

    def refresh(self, now: float) -> None:
        if self.enabled and now - self._scanned >= TREE_SCAN_S:
            self._scanned = now
            found = descendants({self.pid, *self.extra})
            self.extra |= found
            ADOPTED.update(found)

    def memory_kb(self) -> tuple[int, int]:
        """The largest RSS and VmHWM among the run's processes."""
        looks = [proc_memory_kb(p) for p in (self.pid, *self.extra)]
        return max(r for r, _ in looks), max(h for _, h in looks)

    def settle(self, result: Watched) -> None:
        """Descendants' CPU as the run ended, then stop each (by pid) and keep its maxrss."""
        live = {p for p in self.extra if os.path.exists(f"/proc/{p}")}
        result.tree_pids = len(self.extra)
        result.tree_cpu_s = sum(proc_cpu_s(p) for p in live)
        result.cpu_s += result.tree_cpu_s
        result.tree_maxrss_kb = max((stop_pid(p) for p in self.extra), default=0)


def watch(
    proc: subprocess.Popen[bytes],
    started: float,
    timeout_s: float,
    disk_roots: Sequence[Path] = (),
    memory: bool = False,
    trigger: Trigger | None = None,
    interval_s: float = SAMPLE_S,
    tree: bool = False,
) -> Watched:
    """Sample ``proc`` until it exits, ``trigger`` fires (kill -9) or ``timeout_s`` passes.

    The exit time comes from a thread blocked in ``wait()``, so sampling adds no error to
    the wall time. ``tree``: also follow the processes it starts (and leaves running).
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
    procs = _Tree(proc.pid, tree)
    while not done.wait(interval_s):
        now = time.monotonic()
        procs.refresh(now)
        rss, hwm = procs.memory_kb() if memory else (0, 0)
        disk = bytes_on_disk(disk_roots) if disk_roots else 0
        sample = Sample(now - started, disk, rss, hwm)
        if rss or not memory:
            result.samples.append(sample)
        if trigger is not None and trigger(sample):
            result.stopped_by_watcher = True
            _kill_unreaped(proc, procs.extra)
        elif now - started > timeout_s:
            result.timed_out = True
            _kill_unreaped(proc, procs.extra)
    done.wait(30)
    result.returncode = proc.returncode
    result.wall_s = (ended[0] if ended else time.monotonic()) - started
    result.cpu_s = cpu[0] if cpu else 0.0
    procs.refresh(float("inf"))
    procs.settle(result)
    return result
