"""Orchestration: set up, start the hub, run each section, print the report, clean up."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import TypeVar

from bench.clients import REPO_ROOT, all_clients, base_env, modelward_pull
from bench.config import Options, parse_options
from bench.costs import measure_costs
from bench.hubproc import Hub, HubSettings, start_hub
from bench.limit import NOT_YET, CapResult, check_pull_limit, live_change
from bench.procs import Registry, become_subreaper
from bench.profiles import Reference, RunnerFor, run_scale, run_wan
from bench.report import Results, render
from bench.report_net import NetProfile, median_rate
from bench.scenarios import Runner
from bench.tools import command_help, ensure_tools, lists_option, tool_version

T = TypeVar("T")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_head() -> str:
    """The checkout's commit (marked dirty when changed)."""
    out = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip() or "?"


def environment(opts: Options, env: dict[str, str]) -> dict[str, str]:
    """What the numbers were measured on."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    override = os.environ.get("PYTHONPATH", "")
    return {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {mem / 2**30:.0f} GiB RAM",
        "os": f"{platform.platform()}",
        "python": platform.python_version(),
        "checkout": git_head(),
        "modelward imported from": _child_import_path(opts, env)
        + (f" (PYTHONPATH={override})" if override else ""),
        "curl": tool_version("curl"),
        "aria2c": tool_version("aria2c"),
        "huggingface_hub": _hf_version(opts, env),
        "command": "bench/run.sh " + " ".join(sys.argv[1:]),
    }


def _child_import_path(opts: Options, env: dict[str, str]) -> str:
    """Where the children import modelward from (a PYTHONPATH copy may shadow the checkout)."""
    code = "import modelward.devhub, os; print(os.path.dirname(modelward.__file__))"
    out = subprocess.run([opts.python, "-c", code], capture_output=True, text=True, env=env)
    return out.stdout.strip() or "? (import failed)"


def _hf_version(opts: Options, env: dict[str, str]) -> str:
    code = "import huggingface_hub; print(huggingface_hub.__version__)"
    out = subprocess.run([opts.python, "-c", code], capture_output=True, text=True, env=env)
    return out.stdout.strip() or "?"


def run_sections(
    opts: Options, runner: Runner, hub: Hub, env: dict[str, str], res: Results
) -> None:
    """Sections 1-4 in order (5 comes from the samples of 1 and 2)."""
    clients = res.clients
    if opts.wants("throughput"):
        hub.set_rate(0)
        for rep in range(opts.repeats):
            for c in clients:
                res.throughput.append(_announce(runner.timed(c, "throughput"), rep, "1"))
    if opts.wants("capped"):
        hub.set_rate(opts.per_conn_rate)
        for rep in range(opts.repeats):
            for c in clients:
                res.capped.append(_announce(runner.timed(c, "capped"), rep, "2"))
    if opts.wants("kill"):
        hub.set_rate(opts.per_conn_rate)
        for c in clients:
            if c.key in ("modelward", "hf"):
                res.kills.append(runner.kill_and_resume(c))
                print(f"[3] {res.kills[-1]}", file=sys.stderr)
    if opts.wants("limit"):
        hub.set_rate(0)
        res.caps += cap_checks(opts, runner, hub, env)


def run_loopback(
    opts: Options, registry: Registry, workdir: Path, env: dict[str, str], res: Results
) -> None:
    """Sections 1-5 on the plain-HTTP loopback hub (and the sha256 cost for section 1)."""
    print(f"materialising a {opts.scale} repo under {workdir}/hub ...", file=sys.stderr)
    log = workdir / "logs" / "hub.log"
    hub = start_hub(registry, opts.python, workdir / "hub", HubSettings(opts.scale), env, log)
    try:
        res.repo_size = hub.repo_size
        res.clients = all_clients(opts, hub, env)
        if opts.wants("throughput"):
            res.costs = measure_costs(registry, hub, env, workdir / "logs" / "costs.log")
        run_sections(opts, Runner(registry, hub, workdir, opts.run_timeout_s), hub, env, res)
    finally:
        hub.close()


def run_profiles(
    opts: Options, registry: Registry, workdir: Path, env: dict[str, str], res: Results
) -> None:
    """Each chosen profile on a hub process of its own, one after the other."""
    runner_for = RunnerFor(registry, workdir, opts.run_timeout_s)
    if "loopback" in opts.profiles:
        run_loopback(opts, registry, workdir, env, res)
    if "wan" in opts.profiles:
        res.wan = run_wan(opts, registry, workdir, env, runner_for)
    if "scale" in opts.profiles:
        reference = None
        if median_rate(res.throughput, "modelward", res.repo_size):
            source = f"section 1 of this run, {opts.scale} repo"
            reference = Reference(res.throughput, res.repo_size, source)
        res.scale = run_scale(opts, registry, workdir, env, runner_for, reference)


def _announce(t: T, rep: int, section: str) -> T:
    print(f"[{section}] run {rep + 1}: {t}", file=sys.stderr, flush=True)
    return t


def cap_checks(opts: Options, runner: Runner, hub: Hub, env: dict[str, str]) -> list[CapResult]:
    """Section 4: ``pull --limit`` if the CLI has it, then the live change via the service."""
    help_text = command_help([*opts.modelward_cmd, "pull"], env)
    label = f"pull --limit {opts.cap_rate / 1e6:g}MB"
    if lists_option(help_text, "--limit"):
        run = runner.fresh_dir("limit")
        inv = modelward_pull(opts, hub, env)(run)
        results = [check_pull_limit(runner, inv, opts)]
        shutil.rmtree(run, ignore_errors=True)
    else:
        results = [CapResult(label, opts.cap_rate, note=NOT_YET)]
    results += live_change(runner, opts, hub, env)
    shutil.rmtree(runner.runs / "service", ignore_errors=True)
    return results


def _workdir(opts: Options) -> tuple[Path, bool]:
    """The scratch dir and whether the benchmark created it (then it removes it whole)."""
    if opts.workdir is None:
        return Path(tempfile.mkdtemp(prefix="modelward-bench-", dir="/tmp")), True
    opts.workdir.mkdir(parents=True, exist_ok=True)
    return opts.workdir, False


def _cleanup(workdir: Path, created: bool, keep: bool) -> None:
    if keep:
        print(f"kept {workdir}", file=sys.stderr)
        return
    if created:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for name in ("hub", "hub-scale", "runs", "logs", "hf-home", "modelward-home"):
        shutil.rmtree(workdir / name, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the markdown report on stdout."""
    opts = parse_options(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    become_subreaper()
    if not opts.skip_setup:
        ensure_tools()
    workdir, created = _workdir(opts)
    registry = Registry()
    started = time.monotonic()
    try:
        env = base_env(workdir)
        (workdir / "logs").mkdir(exist_ok=True)
        res = Results(environment(opts, env), 0, opts.repeats, opts.per_conn_rate, [])
        run_profiles(opts, registry, workdir, env, res)
        res.environment["benchmark wall time"] = f"{time.monotonic() - started:.0f} s"
        print(render(res))
        if opts.json_out is not None:
            opts.json_out.write_text(json.dumps(_raw(res), indent=2))
        return 0
    finally:
        registry.stop_all()
        _cleanup(workdir, created, opts.keep)


def _raw(res: Results) -> dict[str, object]:
    """Results as plain JSON (clients by key only)."""
    raw = dataclasses.asdict(dataclasses.replace(res, clients=[], wan=None, scale=None))
    raw["clients"] = [c.key for c in res.clients]
    if res.wan is not None:
        raw["wan"] = _profile_raw(res.wan)
    if res.scale is not None:
        raw["scale"] = {
            "reference_runs": [dataclasses.asdict(r) for r in res.scale.reference_runs],
            "reference_size": res.scale.reference_size,
            "reference_from": res.scale.reference_from,
            **_profile_raw(res.scale.big),
        }
    return raw


def _profile_raw(profile: NetProfile) -> dict[str, object]:
    raw = dataclasses.asdict(dataclasses.replace(profile, clients=[]))
    raw["clients"] = [c.key for c in profile.clients]
    return raw
