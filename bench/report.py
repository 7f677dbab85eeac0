"""The results as markdown tables, with ratios and the targets of issue 3."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.clients import Client
from bench.limit import CapResult
from bench.scenarios import KillResume, Timed
from bench.sizes import mb


@dataclass
class Results:
    """Everything measured in one run of the benchmark."""

    environment: dict[str, str]
    repo_size: int
    repeats: int
    per_conn_rate: int
    clients: list[Client]
    throughput: list[Timed] = field(default_factory=list)
    capped: list[Timed] = field(default_factory=list)
    kills: list[KillResume] = field(default_factory=list)
    caps: list[CapResult] = field(default_factory=list)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _median_rate(runs: list[Timed], key: str, size: int) -> float | None:
    """Median throughput (bytes/s) of the successful runs of ``key``."""
    times = [r.wall_s for r in runs if r.client == key and r.ok]
    return size / statistics.median(times) if times else None


def throughput_table(res: Results, runs: list[Timed]) -> list[str]:
    """Median wall time, MB/s and the ratio to curl for each client."""
    base = _median_rate(runs, "curl", res.repo_size)
    rows: list[list[object]] = []
    for c in res.clients:
        mine = [r for r in runs if r.client == c.key]
        if not mine:
            continue
        rate = _median_rate(runs, c.key, res.repo_size)
        times = ", ".join(f"{r.wall_s:.2f}" if r.ok else f"FAIL ({r.note})" for r in mine)
        ratio = f"{rate / base:.2f}x" if rate and base else "-"
        median_s = f"{res.repo_size / rate:.2f}" if rate else "-"
        cpu = [r.cpu_s for r in mine if r.ok and r.cpu_s]
        cpu_s = f"{statistics.median(cpu):.2f}" if cpu else "-"
        rows.append(
            [c.label, c.does, median_s, f"{rate / 1e6:,.0f}" if rate else "-", ratio, cpu_s, times]
        )
    header = ["client", "does", "median s", "MB/s", "vs curl", "CPU s", "each run, s"]
    return _table(header, rows)


def throughput_verdicts(res: Results, runs: list[Timed], capped: bool) -> list[str]:
    """The issue's targets for section 1 (unthrottled) or 2 (per-connection cap)."""
    rate = {c.key: _median_rate(runs, c.key, res.repo_size) for c in res.clients}
    mw, hf = rate.get("modelward"), rate.get("hf")
    peer_key, peer = ("aria2c", "aria2c -x8") if capped else ("curl", "curl")
    checks = [(f"modelward ≥ {peer}", mw, rate.get(peer_key), 1.0)]
    checks.append(
        (
            "modelward ≥ 3x huggingface_hub" if capped else "modelward > huggingface_hub",
            mw,
            hf,
            3.0 if capped else 1.0,
        )
    )
    lines = []
    for name, a, b, factor in checks:
        verdict = "n/a" if not a or not b else ("met" if a >= factor * b else "missed")
        ratio = f" ({a / b:.2f}x)" if a and b else ""
        lines.append(f"- target {name}: **{verdict}**{ratio}")
    return lines


def kill_table(res: Results) -> list[str]:
    """Bytes re-sent after kill -9 at about half, per client."""
    rows = []
    for k in res.kills:
        label = next(c.label for c in res.clients if c.key == k.client)
        rows.append(
            [
                label,
                f"{k.killed_at / k.repo_size:.0%}",
                mb(k.sent_before_kill),
                mb(k.kept_after_kill),
                mb(k.sent_by_rerun),
                mb(k.resent),
                f"{k.resent / k.repo_size:.1%}",
                "ok" if k.rerun_ok else "FAIL",
                k.note,
            ]
        )
    header = [
        "client",
        "killed at",
        "hub sent, run 1",
        "on disk after kill",
        "hub sent, rerun",
        "re-sent",
        "re-sent / repo",
        "rerun",
        "note",
    ]
    return _table(header, rows)


def cap_table(res: Results) -> list[str]:
    """Bandwidth cap accuracy and the delay of a live change."""
    rows = []
    for c in res.caps:
        measured = f"{c.measured / 1e6:.2f} MB/s" if c.measured is not None else "-"
        err = f"{c.error:+.1%}" if c.error is not None else "-"
        ok = c.error is not None and abs(c.error) <= 0.05
        verdict = ("met" if ok else "missed") if c.error is not None else "n/a"
        effect = f"{c.effect_s:.2f} s" if c.effect_s is not None else "-"
        rows.append(
            [c.label, f"{c.target / 1e6:g} MB/s ±5%", measured, err, verdict, effect, c.note]
        )
    header = ["check", "target", "measured", "error", "±5%", "change took effect", "note"]
    return _table(header, rows)


def memory_table(res: Results) -> list[str]:
    """Peak RSS (VmHWM) per client over every full run, and RSS at a quarter of the bytes."""
    rows = []
    for c in res.clients:
        runs = [r for r in (*res.throughput, *res.capped) if r.client == c.key and r.peak_rss_kb]
        if not runs:
            continue
        peak = max(r.peak_rss_kb for r in runs) / 1024
        quarter = max(r.rss_at_quarter_kb for r in runs) / 1024
        verdict = ("met" if peak < 300 else "missed") if c.key == "modelward" else ""
        rows.append([c.label, f"{peak:,.0f} MiB", f"{quarter:,.0f} MiB", len(runs), verdict])
    header = ["client", "peak RSS (VmHWM)", "RSS at 25% of bytes", "runs", "< 300 MB"]
    return _table(header, rows)


def render(res: Results) -> str:
    """The whole report as markdown."""
    env = res.environment
    out = ["# modelward benchmark", ""]
    out += [f"- {k}: {v}" for k, v in env.items()]
    size = f"{res.repo_size:,} bytes ({res.repo_size / 2**30:.2f} GiB)"
    out += [f"- repo: {size}; medians of {res.repeats} run(s); MB = 10^6 bytes", ""]
    if res.throughput:
        out += ["## 1. Throughput, unthrottled loopback", ""]
        out += [*throughput_table(res, res.throughput), ""]
        out += [*throughput_verdicts(res, res.throughput, capped=False), ""]
    if res.capped:
        cap = res.per_conn_rate / 1e6
        out += [f"## 2. Throughput, hub caps each connection at {cap:g} MB/s", ""]
        out += [*throughput_table(res, res.capped), ""]
        out += [*throughput_verdicts(res, res.capped, capped=True), ""]
    if res.kills:
        out += ["## 3. kill -9 at about 50%, then rerun", ""]
        out += ["re-sent = hub bytes sent over both runs - repo size", ""]
        out += [*kill_table(res), ""]
    if res.caps:
        out += ["## 4. Bandwidth cap", "", *cap_table(res), ""]
    if res.throughput or res.capped:
        out += ["## 5. Memory", "", *memory_table(res), ""]
    return "\n".join(out)
