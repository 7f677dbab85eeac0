"""The results as markdown tables, with ratios and the targets of issue 3."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.clients import Client
from bench.costs import Costs
from bench.limit import CapResult
from bench.report_net import (
    NetProfile,
    ScaleProfile,
    cpu_beyond_lines,
    no_failure_verdict,
    ratio_verdict,
    resolve_verdict,
    resumed_line,
    runs_table,
    scale_memory_lines,
    scale_rate_line,
)
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
    costs: Costs | None = None
    wan: NetProfile | None = None
    scale: ScaleProfile | None = None


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _median_rate(runs: list[Timed], key: str, size: int) -> float | None:
    """Median throughput (bytes/s) of the successful runs of ``key``."""
    times = [r.wall_s for r in runs if r.client == key and r.ok]
    return size / statistics.median(times) if times else None


def throughput_table(res: Results, runs: list[Timed]) -> list[str]:
    """Sections 1 and 2: every column of ``runs_table``, ratios to curl."""
    return runs_table(res.clients, runs, res.repo_size, "curl")


def throughput_verdicts(res: Results, runs: list[Timed], capped: bool) -> list[str]:
    """Issue 17's targets for section 1 (unthrottled) or 2 (per-connection cap)."""
    size = res.repo_size
    if capped:
        return [
            ratio_verdict(runs, size, "modelward", "aria2c", 1.0, "aria2c -x8"),
            ratio_verdict(runs, size, "modelward", "hf", 3.0, "huggingface_hub"),
            no_failure_verdict(runs),
        ]
    return [
        ratio_verdict(runs, size, "modelward", "curl", 0.8, "curl"),
        *cpu_beyond_lines(runs, size, res.costs),
        no_failure_verdict(runs),
    ]


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
    if res.repo_size:
        size = f"{res.repo_size:,} bytes ({res.repo_size / 2**30:.2f} GiB)"
        out += [f"- loopback repo: {size}; medians of {res.repeats} run(s); MB = 10^6 bytes"]
    out += [""]
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
    out += wan_section(res.wan) + scale_section(res.scale)
    return "\n".join(out)


def _profile_head(p: NetProfile) -> list[str]:
    size = f"{p.repo_size:,} bytes ({p.repo_size / 1e9:.1f} GB), {p.files} files"
    return [f"## {p.title}", "", f"- {p.settings}", f"- repo: {size}", ""]


def wan_section(wan: NetProfile | None) -> list[str]:
    """Section 6: the WAN profile and its targets."""
    if wan is None:
        return []
    out = _profile_head(wan)
    out += [*runs_table(wan.clients, wan.runs, wan.repo_size, "aria2c"), ""]
    out += [resumed_line(wan.clients, wan.runs), ""]
    out += [
        ratio_verdict(wan.runs, wan.repo_size, "modelward", "aria2c", 1.0, "aria2c -x8"),
        ratio_verdict(wan.runs, wan.repo_size, "modelward", "hf", 3.0, "huggingface_hub"),
        *resolve_verdict(wan.runs, wan.files),
        no_failure_verdict(wan.runs),
        "",
    ]
    return out


def scale_section(scale: ScaleProfile | None) -> list[str]:
    """Section 7: the 20 GB repo, memory and throughput."""
    if scale is None:
        return []
    big = scale.big
    out = _profile_head(big)
    out += [*runs_table(big.clients, big.runs, big.repo_size, "curl"), ""]
    out += [*scale_memory_lines(big.runs), *scale_rate_line(scale), no_failure_verdict(big.runs)]
    return [*out, ""]
