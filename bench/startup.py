"""Start-up benchmark: how long a person waits for the first modelward commands (issue 17).

Each command runs ``--runs`` times as a process of its own, the way a shell starts it
(``.venv/bin/modelward ...``), and the table shows the median and the fastest wall time,
its median CPU time (user + system: less sensitive to what else runs), the target and whether
the median wall time meets it:

- ``modelward --version`` (target 0.2 s) and ``modelward --help`` (no target);
- ``modelward status`` over the built-in catalog with no service running, in a new empty
  ``MODELWARD_HOME`` and Hugging Face cache for every run (target 0.4 s). With nothing
  resolved yet it asks the hub for each model; the hub here is a closed port on loopback
  (``HF_ENDPOINT=https://127.0.0.1:<closed>``) so the figure is start-up, not the network;
  ``--live-endpoint`` keeps the environment's endpoint. ``status --offline`` asks nothing;
- peers in the same run, for comparison: ``hf version`` (huggingface_hub's CLI, when
  installed), ``python -c "import huggingface_hub"`` and ``python -c pass``.

Run ``bench/startup.sh`` (or ``.venv/bin/python -m bench.startup``) from the repository root;
``--help`` lists the options. This is a shared 2-core machine: the median of 10 runs is the
figure, the fastest run shows the floor.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.clients import base_env

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Case:
    """One command line to time, and its target in seconds (None: for comparison)."""

    label: str
    argv: list[str]
    target_s: float | None = None


@dataclass(frozen=True)
class Timing:
    """A case's wall times and CPU times (user + system), in seconds, one per run."""

    case: Case
    times: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.times)

    @property
    def verdict(self) -> str:
        """Whether the median meets the target."""
        if self.case.target_s is None:
            return "-"
        return "met" if self.median <= self.case.target_s else "missed"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cases() -> list[Case]:
    """The commands, ours first, then the peers."""
    modelward = str(VENV_BIN / "modelward")
    python = str(VENV_BIN / "python")
    found = [
        Case("modelward --version", [modelward, "--version"], 0.2),
        Case("modelward --help", [modelward, "--help"]),
        Case("modelward status", [modelward, "status"], 0.4),
        Case("modelward status --offline", [modelward, "status", "--offline"]),
    ]
    hf = VENV_BIN / "hf"
    if hf.exists():
        found.append(Case("hf version", [str(hf), "version"]))
    found += [
        Case('python -c "import huggingface_hub"', [python, "-c", "import huggingface_hub"]),
        Case('python -c "pass"', [python, "-c", "pass"]),
    ]
    return found


def run_once(case: Case, env_for_run: Callable[[Path], dict[str, str]]) -> tuple[float, float]:
    """One run's wall time and CPU time, in a new empty working directory (home, caches)."""
    workdir = Path(tempfile.mkdtemp(prefix="mw-startup-"))
    try:
        env = env_for_run(workdir)
        before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(case.argv, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        cpu = _children_cpu() - before
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode(errors="replace")[-2000:]
        raise SystemExit(f"{case.label} failed (exit {done.returncode}):\n{said}")
    return elapsed, cpu


def _children_cpu() -> float:
    # The CPU time of waited-for children: less sensitive than wall time to other load.
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def environment(live_endpoint: bool) -> Callable[[Path], dict[str, str]]:
    """Each run's environment: no user caches or MODELWARD_*, a closed hub unless live."""

    def env_for_run(workdir: Path) -> dict[str, str]:
        env = base_env(workdir)
        env["COLUMNS"] = "100"  # the same table width whatever terminal runs the benchmark
        if not live_endpoint:
            env["HF_ENDPOINT"] = f"https://127.0.0.1:{closed_port()}"
        return env

    return env_for_run


def measure(
    chosen: Sequence[Case], runs: int, env_for_run: Callable[[Path], dict[str, str]]
) -> list[Timing]:
    """Every case ``runs`` times, interleaved (one of each in turn), so a burst of load on
    the machine lands on all of them alike; one warm-up round first (page cache, .pyc)."""
    for case in chosen:
        run_once(case, env_for_run)
    runs_of: dict[str, list[tuple[float, float]]] = {case.label: [] for case in chosen}
    for _ in range(runs):
        for case in chosen:
            runs_of[case.label].append(run_once(case, env_for_run))
    return [
        Timing(case, [w for w, _ in runs_of[case.label]], [c for _, c in runs_of[case.label]])
        for case in chosen
    ]


def table(timings: Sequence[Timing], runs: int) -> str:
    """The results as an aligned plain-text table."""
    rows = [("command", "median s", "min s", "cpu s", "target s", "")]
    for t in timings:
        target = f"{t.case.target_s:.2f}" if t.case.target_s is not None else "-"
        cpu = f"{statistics.median(t.cpu):.3f}"
        rows.append(
            (t.case.label, f"{t.median:.3f}", f"{min(t.times):.3f}", cpu, target, t.verdict)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(lines) + (
        f"\n({runs} runs each; wall time, and the median CPU time (user + system) of the"
        f" process; {os.cpu_count()} CPUs, load average {load} at the end)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="Runs per command (default 10).")
    parser.add_argument(
        "--only", action="append", default=[], help="Only commands whose label has this text."
    )
    parser.add_argument(
        "--live-endpoint",
        action="store_true",
        help="Let status ask the environment's hub (HF_ENDPOINT or huggingface.co).",
    )
    args = parser.parse_args(argv)
    chosen = [c for c in cases() if not args.only or any(o in c.label for o in args.only)]
    timings = measure(chosen, args.runs, environment(args.live_endpoint))
    print(table(timings, args.runs))
    return 1 if any(t.verdict == "missed" for t in timings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
