"""Sections 1-3 and 5: timed full downloads, and kill -9 at half then resume."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.clients import Client, Invocation
from bench.hubproc import Hub
from bench.hubstats import HubStats
from bench.procs import Registry, Sample, Trigger, Watched, bytes_on_disk, proc_cpu_s, watch


@dataclass(frozen=True)
class Timed:
    """One full download by one client."""

    client: str
    wall_s: float
    ok: bool
    hub_bytes: int
    peak_rss_kb: int
    rss_at_quarter_kb: int
    note: str = ""
    cpu_s: float = 0.0
    hub: HubStats | None = None
    """What the hub saw during the run (resolves, connections, 429s...)."""
    tree_cpu_s: float = 0.0
    """CPU of processes the client left running (modelward's service), within ``cpu_s``."""
    tree_maxrss_kb: int = 0
    """ru_maxrss (wait4) of those processes: the download process for modelward."""
    rss_curve: tuple[tuple[float, int], ...] = ()
    """(share of the repo on disk, largest process RSS in KiB) at each tenth of the bytes."""
    hub_cpu_s: float = 0.0
    """CPU the hub's process used during the run (it shares the machine's cores)."""


@dataclass(frozen=True)
class KillResume:
    """kill -9 at about half, then a rerun to completion, for one client."""

    client: str
    killed_at: int
    sent_before_kill: int
    kept_after_kill: int
    sent_by_rerun: int
    repo_size: int
    rerun_ok: bool
    note: str = ""

    @property
    def resent(self) -> int:
        """Bytes the hub sent beyond the repo's size, over both runs."""
        return self.sent_before_kill + self.sent_by_rerun - self.repo_size


class Runner:
    """Runs clients against the hub in fresh directories, logging each run."""

    def __init__(self, registry: Registry, hub: Hub, workdir: Path, timeout_s: float) -> None:
        self.registry, self.hub, self.timeout_s = registry, hub, timeout_s
        self.runs = workdir / "runs"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._counter = 0

    def fresh_dir(self, name: str) -> Path:
        """An empty run directory (its previous contents removed)."""
        run = self.runs / name
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        return run

    def _log(self, label: str) -> Path:
        self._counter += 1
        return self.logs / f"{self._counter:03d}-{label}.log"

    def launch(
        self,
        inv: Invocation,
        label: str,
        trigger: Trigger | None = None,
        timeout_s: float | None = None,
    ) -> tuple[Watched, Path]:
        """Run ``inv`` to its end (or the trigger's kill -9), sampling disk and memory."""
        log = self._log(label)
        started = time.monotonic()
        proc = self.registry.spawn(inv.cmd, inv.env, log)
        watched = watch(
            proc,
            started,
            timeout_s or self.timeout_s,
            disk_roots=inv.disk_roots,
            memory=True,
            trigger=trigger,
            tree=inv.tree,
        )
        return watched, log

    def timed(self, client: Client, section: str) -> Timed:
        """One full download into a fresh directory, removed afterwards."""
        run = self.fresh_dir(client.key)
        self.hub.reset()
        inv = client.build(run)
        hub_cpu = proc_cpu_s(self.hub.proc.pid)
        watched, log = self.launch(inv, f"{section}-{client.key}")
        stats = self.hub.stats(settle_s=0.3)
        hub_cpu = proc_cpu_s(self.hub.proc.pid) - hub_cpu
        # Complete means every byte is on disk (the hub's count can be short: a client that
        # closes an open-ended Range early, as aria2c does, cuts a sendfile chunk uncounted).
        on_disk = bytes_on_disk(inv.disk_roots)
        shutil.rmtree(run, ignore_errors=True)
        ok = watched.returncode == 0 and on_disk >= self.hub.repo_size
        note = "" if ok else failure_note(watched, log, on_disk, self.hub.repo_size)
        size = self.hub.repo_size
        return Timed(
            client.key,
            watched.wall_s,
            ok,
            stats.file_bytes,
            watched.peak_hwm_kb,
            rss_at_fraction(watched.samples, size // 4),
            note,
            watched.cpu_s,
            stats,
            watched.tree_cpu_s,
            watched.tree_maxrss_kb,
            rss_curve(watched.samples, size),
            hub_cpu,
        )

    def kill_and_resume(self, client: Client, fraction: float = 0.5) -> KillResume:
        """Start ``client``, kill -9 once ``fraction`` of the repo is on disk, rerun it."""
        run = self.fresh_dir(f"kill-{client.key}")
        inv = client.build(run)
        target = int(self.hub.repo_size * fraction)
        self.hub.clear_log()
        first, _ = self.launch(inv, f"kill-{client.key}", trigger=lambda s: s.disk >= target)
        kept = bytes_on_disk(inv.disk_roots)
        sent1 = self.hub.file_bytes_sent(settle_s=1.0)
        killed_at = first.samples[-1].disk if first.samples else 0
        self.hub.clear_log()
        second, log = self.launch(inv, f"resume-{client.key}")
        sent2 = self.hub.file_bytes_sent(settle_s=0.3)
        complete = bytes_on_disk(inv.disk_roots) >= self.hub.repo_size
        shutil.rmtree(run, ignore_errors=True)
        ok = second.returncode == 0 and complete
        note = "" if first.stopped_by_watcher else "finished before the kill"
        if not ok:
            note = failure_note(second, log)
        return KillResume(client.key, killed_at, sent1, kept, sent2, self.hub.repo_size, ok, note)


def rss_at_fraction(samples: list[Sample], disk_bytes: int) -> int:
    """RSS (KiB) at the first sample with at least ``disk_bytes`` on disk (0 if never)."""
    for s in samples:
        if s.disk >= disk_bytes and s.rss_kb:
            return s.rss_kb
    return 0


def rss_curve(samples: list[Sample], size: int) -> tuple[tuple[float, int], ...]:
    """RSS at each tenth of the repo's bytes on disk (to show it stays flat)."""
    points = []
    for tenth in range(1, 11):
        rss = rss_at_fraction(samples, size * tenth // 10)
        if rss:
            points.append((tenth / 10, rss))
    return tuple(points)


def failure_note(watched: Watched, log: Path, on_disk: int = -1, size: int = 0) -> str:
    """A short reason for a failed run; the log's tail goes to stderr."""
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    print(f"--- {log.name} (exit {watched.returncode}) ---\n{tail}", file=sys.stderr)
    if watched.timed_out:
        return f"timed out after {watched.wall_s:.0f} s"
    if watched.returncode == 0 and 0 <= on_disk < size:
        return f"exit 0 but only {on_disk / size:.0%} of the bytes on disk, see {log.name}"
    return f"exit {watched.returncode}, see {log.name}"
