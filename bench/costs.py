"""What hashing and reading the repo cost on this machine, measured in the same run.

"CPU beyond copy and hash" (issue 17) = modelward's CPU - curl's CPU (receiving the bytes
and writing them to files, nothing else) - the sha256 of the bytes alone (``openssl dgst
-sha256`` over the hub's files minus ``cat`` of the same files to /dev/null, i.e. minus
reading them from the page cache).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.hubproc import Hub
from bench.procs import Registry, watch


@dataclass(frozen=True)
class Costs:
    """Median CPU seconds over the repo's bytes: sha256 (with its reads) and the reads alone."""

    size: int
    sha256_cpu_s: float
    read_cpu_s: float
    runs: int

    @property
    def hash_only_s(self) -> float:
        """sha256 of the repo's bytes without reading them."""
        return max(0.0, self.sha256_cpu_s - self.read_cpu_s)


def _cpu_of(registry: Registry, cmd: list[str], env: dict[str, str], log: Path) -> float:
    proc = registry.spawn(cmd, env, log)
    return watch(proc, time.monotonic(), 600.0, interval_s=0.2).cpu_s


def measure_costs(
    registry: Registry, hub: Hub, env: dict[str, str], log: Path, runs: int = 3
) -> Costs | None:
    """``openssl dgst -sha256`` and ``cat > /dev/null`` over the hub's files, ``runs`` times."""
    paths = [f.local for f in hub.files if f.local]
    if len(paths) != len(hub.files):
        return None
    sha = ["openssl", "dgst", "-sha256", *paths]
    cat = ["sh", "-c", 'cat "$@" > /dev/null', "cat", *paths]
    _cpu_of(registry, cat, env, log)  # warm the page cache
    shas = [_cpu_of(registry, sha, env, log) for _ in range(runs)]
    reads = [_cpu_of(registry, cat, env, log) for _ in range(runs)]
    return Costs(hub.repo_size, statistics.median(shas), statistics.median(reads), runs)
