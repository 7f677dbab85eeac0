"""``python -m bench.fleet``: one download for the team (issue 18), measured.

One local hub process serving the peer benchmark's repo (``--scale``, default 2.2 GB), one
SeaweedFS (the mirror) and one PostgreSQL (the shared database). For each N of ``--nodes``:

- ``modelward``: N nodes pulling the model at once (``modelward pull`` per node, each with
  its own store, node name and service), sharing a fresh database and a fresh bucket;
- ``huggingface_hub``: N independent ``snapshot_download`` processes at once.

Measured per run: the Hub's egress (file bytes in its request log), the time until all N
are ready, CPU seconds (clients and their services, SeaweedFS and PostgreSQL; the hub's
own apart), peak disk, and for modelward the database's transactions per node and second
while pulling and while idle, and the lease rows. ``--probe`` then times nodes reading
the whole model from a full mirror (the mirror's read rate per node). One run per N: no
medians. Prints a markdown report on stdout; stores are deleted between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from bench.clients import base_env
from bench.fleet_run import (
    FleetRun,
    Rig,
    clear_runs,
    drop_bucket,
    new_team,
    run_hf,
    run_modelward,
)
from bench.hubproc import HubSettings, start_hub
from bench.main import cpu_model, git_head
from bench.procs import Registry, become_subreaper

GB = 1e9


@dataclass(frozen=True)
class FleetOptions:
    """The command line."""

    nodes: tuple[int, ...]
    scale: str
    methods: tuple[str, ...]
    probes: tuple[int, ...]
    idle_s: float
    timeout_s: float
    volume_mb: int
    workdir: Path | None
    keep: bool
    json_out: Path | None
    sql_log: Path | None = None


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def parse_options(argv: list[str] | None) -> FleetOptions:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n")[0])
    p.add_argument("--nodes", default="2,4,8", help="fleet sizes, comma-separated")
    p.add_argument("--scale", default="2.2GB", help="size of the synthetic repo")
    p.add_argument(
        "--methods", default="modelward,hf", help="modelward and/or hf (comma-separated)"
    )
    p.add_argument("--probe", default="1,4", help="nodes reading from a full mirror ('' to skip)")
    p.add_argument("--idle", type=float, default=30.0, help="idle window for the DB load, s")
    p.add_argument("--run-timeout", type=float, default=1800.0, help="limit per run, s")
    p.add_argument("--volume-mb", type=int, default=8192, help="SeaweedFS volume size limit")
    p.add_argument("--workdir", type=Path, default=None, help="scratch dir (default /tmp/...)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dir afterwards")
    p.add_argument("--json", type=Path, default=None, help="also write raw results here")
    p.add_argument(
        "--sql-log", type=Path, default=None, help="log every statement; copy the log here"
    )
    ns = p.parse_args(argv)
    methods = tuple(m for m in ns.methods.split(",") if m)
    if not set(methods) <= {"modelward", "hf"}:
        raise SystemExit(f"--methods: modelward and/or hf, not {ns.methods!r}")
    return FleetOptions(
        _ints(ns.nodes),
        ns.scale,
        methods,
        _ints(ns.probe),
        ns.idle,
        ns.run_timeout,
        ns.volume_mb,
        ns.workdir,
        ns.keep,
        ns.json,
        ns.sql_log,
    )


@dataclass
class FleetResults:
    """Every run of the benchmark."""

    environment: dict[str, str]
    runs: list[FleetRun] = field(default_factory=list)
    probes: list[FleetRun] = field(default_factory=list)


def _announce(run: FleetRun) -> FleetRun:
    state = "ok" if run.ok else "FAILED"
    print(
        f"[fleet] {run.label} N={run.n}: {state}, egress {run.egress / GB:.2f} GB, "
        f"all ready in {run.ready_s:.1f} s, CPU {run.cpu_s:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return run


def run_all(rig: Rig, opts: FleetOptions, res: FleetResults) -> None:
    """Every N, modelward then huggingface_hub; the probe after the first modelward run."""
    for n in opts.nodes:
        if "modelward" in opts.methods:
            team = new_team(rig, n)
            res.runs.append(_announce(run_modelward(rig, n, team, "mw")))
            clear_runs(rig)
            if opts.probes and not res.probes:
                for k in opts.probes:
                    res.probes.append(_announce(run_modelward(rig, k, team, "probe", n + 1)))
                    clear_runs(rig)
            drop_bucket(rig, team.bucket)
        if "hf" in opts.methods:
            res.runs.append(_announce(run_hf(rig, n)))
            clear_runs(rig)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main_table(res: FleetResults) -> list[str]:
    """N, method, egress, egress / model, time to all ready, CPU, peak disk."""
    header = ["N", "method", "hub egress", "egress / model", "all ready", "CPU s",
              "hub CPU s", "peak disk", "ok", "load"]  # fmt: skip
    out = [_row(header), _row(["---"] * len(header))]
    for r in res.runs:
        out.append(
            _row(
                [
                    r.n,
                    r.method,
                    f"{r.egress / GB:.2f} GB",
                    f"{r.egress / r.model_bytes:.2f}x",
                    f"{r.ready_s:.1f} s",
                    f"{r.cpu_s:.0f}",
                    f"{r.server_cpu.get('hub', 0):.1f}",
                    f"{r.peak_disk / GB:.1f} GB",
                    "yes" if r.ok else "NO",
                    f"{r.load:.1f}",
                ]
            )
        )
    return out


def verdicts(res: FleetResults) -> list[str]:
    """One line per N: modelward against huggingface_hub."""
    lines = []
    for n in sorted({r.n for r in res.runs}):
        mw = next((r for r in res.runs if r.n == n and r.method == "modelward"), None)
        hf = next((r for r in res.runs if r.n == n and r.method != "modelward"), None)
        if mw is None or hf is None:
            continue
        saved = (hf.egress - mw.egress) / GB
        speed = hf.ready_s / mw.ready_s if mw.ready_s else 0.0
        lines.append(
            f"- N={n}: modelward took {mw.egress / mw.model_bytes:.2f}x the model from the Hub, "
            f"huggingface_hub {hf.egress / hf.model_bytes:.2f}x ({saved:.1f} GB less egress); "
            f"all ready in {mw.ready_s:.0f} s vs {hf.ready_s:.0f} s "
            f"({'faster' if speed >= 1 else 'slower'}: {speed:.2f}x hf's speed), "
            f"CPU {mw.cpu_s:.0f} s vs {hf.cpu_s:.0f} s"
            + ("" if mw.ok and hf.ok else " — A RUN FAILED")
        )
    return lines


def detail_lines(res: FleetResults) -> list[str]:
    """Per modelward run: node times, who led which blobs, lease rows, database load."""
    out = []
    for r in [*res.runs, *res.probes]:
        if r.method != "modelward":
            continue
        times = ", ".join(f"{n.name} {n.ready_s:.0f} s" for n in r.nodes)
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.server_cpu.items())
        phases = ""
        if r.label == "mw" and r.hub_done_s is not None and r.mirror_done_s is not None:
            phases = (
                f"; last blob fetched from the Hub at {r.hub_done_s:.0f} s, in the mirror at "
                f"{r.mirror_done_s:.0f} s, last node ready {r.ready_s - r.mirror_done_s:.0f} s "
                "later"
            )
        out.append(
            f"- {r.label} N={r.n}: ready {times}; leaders {r.leaders or '-'}; lease rows "
            f"{r.lease_rows} {r.lease_states or ''}; DB {r.pull_xacts_per_node_s:.1f} "
            f"xact/s per node pulling, {r.idle_xacts_per_node_s:.2f} idle, up to "
            f"{r.db_connections} connections; clients CPU "
            f"{r.client_cpu_s:.0f} s; servers CPU {cpu}{phases}"
        )
    return out


def probe_lines(res: FleetResults) -> list[str]:
    """The mirror's read rate: nodes pulling the whole model from a full mirror."""
    out = []
    for r in res.probes:
        per_node = [r.model_bytes / n.ready_s / 1e6 for n in r.nodes if n.ready_s]
        total = r.n * r.model_bytes / r.ready_s / 1e6 if r.ready_s else 0.0
        out.append(
            f"- {r.n} node(s) from a full mirror: hub egress {r.egress / 1e6:.1f} MB, all "
            f"ready in {r.ready_s:.1f} s; per node {min(per_node):.0f}-{max(per_node):.0f} "
            f"MB/s (download + sha256 verify), aggregate {total:.0f} MB/s; weed CPU "
            f"{r.server_cpu.get('weed', 0):.0f} s"
        )
    return out


def render(res: FleetResults) -> str:
    """The whole report as markdown."""
    out = ["# modelward fleet benchmark", ""]
    out += [f"- {k}: {v}" for k, v in res.environment.items()]
    out += ["", *main_table(res), "", *verdicts(res), ""]
    if details := detail_lines(res):
        out += ["Details:", "", *details, ""]
    if probes := probe_lines(res):
        out += ["Mirror read rate:", "", *probes, ""]
    return "\n".join(out)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _environment(opts: FleetOptions) -> dict[str, str]:
    return {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "checkout": git_head(),
        "command": "python -m bench.fleet " + " ".join(sys.argv[1:]),
        "runs": "one per N and method (no medians)",
    }


def run(opts: FleetOptions, registry: Registry, workdir: Path) -> FleetResults:
    """Start the servers and the hub, run everything, stop them."""
    res = FleetResults(_environment(opts))
    env = base_env(workdir)
    (workdir / "logs").mkdir(exist_ok=True)
    # The tests' real servers (tests/ imports nothing from modelward either).
    from tests.pg import running_postgres
    from tests.s3 import running_s3_server

    with running_postgres() as pg, running_s3_server(opts.volume_mb, parent=workdir) as s3:
        print(f"materialising a {opts.scale} repo under {workdir}/hub ...", file=sys.stderr)
        log = workdir / "logs" / "hub.log"
        hub = start_hub(
            registry, sys.executable, workdir / "hub", HubSettings(opts.scale), env, log
        )
        try:
            modelward = str(Path(sys.executable).with_name("modelward"))
            rig = Rig(registry, hub, s3, pg, workdir, env, sys.executable, modelward,
                      opts.timeout_s, opts.idle_s, opts.sql_log is not None)  # fmt: skip
            res.environment["model"] = f"{hub.repo_size:,} bytes, {len(hub.files)} files"
            run_all(rig, opts, res)
        finally:
            hub.close()
            if opts.sql_log is not None:
                shutil.copyfile(pg.log, opts.sql_log)
    return res


def main(argv: list[str] | None = None) -> int:
    """Run the fleet benchmark; print the markdown report."""
    opts = parse_options(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    become_subreaper()
    created = opts.workdir is None
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="modelward-fleet-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    registry = Registry()
    started = time.monotonic()
    try:
        res = run(opts, registry, workdir)
        res.environment["benchmark wall time"] = f"{time.monotonic() - started:.0f} s"
        print(render(res))
        if opts.json_out is not None:
            raw = {"environment": res.environment,
                   "runs": [dataclasses.asdict(r) for r in res.runs],
                   "probes": [dataclasses.asdict(r) for r in res.probes]}  # fmt: skip
            opts.json_out.write_text(json.dumps(raw, indent=2))
        return 0
    finally:
        registry.stop_all()
        if not opts.keep:
            shutil.rmtree(workdir if created else workdir / "runs", ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
