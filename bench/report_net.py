"""Issue 17's tables: what the hub saw per run (resolves, connections, 429s), CPU per GB,
the WAN and scale profiles, and every target printed as met or missed and by how much."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.clients import Client
from bench.costs import Costs
from bench.hubstats import HubStats
from bench.scenarios import Timed

NET_HEADER = ["resolves", "hub conns", "CDN conns", "429s", "CDN 403s", "failed"]


@dataclass
class NetProfile:
    """One profile's timed runs: the WAN profile, or a scale profile's runs."""

    title: str
    repo_size: int
    files: int
    settings: str
    clients: list[Client]
    runs: list[Timed] = field(default_factory=list)


@dataclass
class ScaleProfile:
    """The 20 GB repo's runs and the 2.2 GB reference they are compared with."""

    big: NetProfile
    reference_runs: list[Timed] = field(default_factory=list)
    """Runs on the loopback repo (2.2 GB), unthrottled, in the same benchmark run."""
    reference_size: int = 0
    reference_from: str = ""


def row(cells: Sequence[object]) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A markdown table."""
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows)]


def median_rate(runs: Sequence[Timed], key: str, size: int) -> float | None:
    """Median bytes/s of the successful runs of ``key``."""
    times = [r.wall_s for r in runs if r.client == key and r.ok]
    return size / statistics.median(times) if times else None


def median_cpu(runs: Sequence[Timed], key: str) -> float | None:
    """Median CPU seconds of the successful runs of ``key``."""
    cpu = [r.cpu_s for r in runs if r.client == key and r.ok and r.cpu_s]
    return statistics.median(cpu) if cpu else None


def _median_hub_cpu(mine: Sequence[Timed]) -> str:
    cpu = [r.hub_cpu_s for r in mine if r.ok and r.hub_cpu_s]
    return f"{statistics.median(cpu):.2f}" if cpu else "-"


def _median_stat(mine: Sequence[Timed], pick: Callable[[HubStats], int]) -> str:
    values = [pick(r.hub) for r in mine if r.hub is not None]
    if not values:
        return "-"
    low, high, mid = min(values), max(values), statistics.median(values)
    return f"{mid:,.0f}" if low == high else f"{mid:,.0f} ({low:,}-{high:,})"


def net_cells(mine: Sequence[Timed]) -> list[str]:
    """Medians (and range) of what the hub saw over one client's runs, and its failures."""
    failed = sum(not r.ok for r in mine)
    return [
        _median_stat(mine, lambda s: s.resolves),
        _median_stat(mine, lambda s: s.hub_connections),
        _median_stat(mine, lambda s: s.cdn_connections),
        _median_stat(mine, lambda s: s.answered_429),
        _median_stat(mine, lambda s: s.cdn_403),
        f"**{failed} of {len(mine)}**" if failed else f"0 of {len(mine)}",
    ]


def runs_table(clients: Sequence[Client], runs: Sequence[Timed], size: int, peer: str) -> list[str]:
    """Median wall time, MB/s, ratio to ``peer``, CPU (per GB), the hub's counts, each run."""
    base = median_rate(runs, peer, size)
    peer_label = next((c.label for c in clients if c.key == peer), peer)
    rows: list[list[object]] = []
    for c in clients:
        mine = [r for r in runs if r.client == c.key]
        if not mine:
            continue
        rate, cpu = median_rate(runs, c.key, size), median_cpu(runs, c.key)
        rows.append(
            [
                c.label,
                c.does,
                f"{size / rate:.2f}" if rate else "-",
                f"{rate / 1e6:,.0f}" if rate else "-",
                f"{rate / base:.2f}x" if rate and base else "-",
                f"{cpu:.2f}" if cpu else "-",
                f"{cpu / (size / 1e9):.2f}" if cpu else "-",
                _median_hub_cpu(mine),
                *net_cells(mine),
                ", ".join(f"{r.wall_s:.2f}" if r.ok else f"FAIL ({r.note})" for r in mine),
            ]
        )
    head = ["client", "does", "median s", "MB/s", f"vs {peer_label.split(' ')[0]}", "CPU s"]
    return table([*head, "CPU s/GB", "hub CPU s", *NET_HEADER, "each run, s"], rows)


def resumed_line(clients: Sequence[Client], runs: Sequence[Timed]) -> str:
    """How many new connections resumed a TLS session, per client (medians)."""
    parts = []
    for c in clients:
        mine = [r.hub for r in runs if r.client == c.key and r.hub is not None]
        if mine:
            resumed = statistics.median(s.tls_resumed for s in mine)
            new = statistics.median(s.hub_connections + s.cdn_connections for s in mine)
            parts.append(f"{c.label} {resumed:.0f} of {new:.0f}")
    return "- new connections that resumed a TLS session: " + "; ".join(parts)


def verdict(name: str, value: float | None, target: float, at_least: bool, unit: str) -> str:
    """``- target NAME: **met** (value; target ≥ t: above it by x%)`` or n/a."""
    if value is None:
        return f"- target {name}: **n/a** (no successful run)"
    ok = value >= target if at_least else value < target
    sign = "≥" if at_least else "<"
    gap = (value - target) / target if target else 0.0
    how = f"{abs(gap):.0%} {'above' if gap >= 0 else 'below'} it"
    state = "met" if ok else "missed"
    return f"- target {name}: **{state}** ({value:.2f}{unit}; {sign} {target:g}{unit}: {how})"


def ratio_verdict(
    runs: Sequence[Timed], size: int, key: str, peer: str, factor: float, label: str
) -> str:
    """modelward's MB/s over ``peer``'s, against ``factor``."""
    mine, theirs = median_rate(runs, key, size), median_rate(runs, peer, size)
    value = mine / theirs if mine and theirs else None
    return verdict(f"modelward ≥ {factor:g}x {label}", value, factor, True, "x")


def no_failure_verdict(runs: Sequence[Timed], key: str = "modelward") -> str:
    """Every run of ``key`` completed with every byte on disk."""
    mine = [r for r in runs if r.client == key]
    failed = [r for r in mine if not r.ok]
    result = "met" if mine and not failed else "missed" if failed else "n/a"
    notes = "".join(f"; {r.note}" for r in failed)
    return f"- target no failed download: **{result}** ({len(failed)} of {len(mine)} failed{notes})"


def resolve_verdict(runs: Sequence[Timed], files: int, key: str = "modelward") -> list[str]:
    """resolves ≤ files + expiries + rate-limit retries, for each run of ``key``."""
    lines = []
    worst: int | None = None
    for i, r in enumerate(x for x in runs if x.client == key and x.hub is not None):
        s = r.hub
        assert s is not None
        allowed = files + s.expiries + s.resolves_429
        over = s.resolves - allowed
        worst = over if worst is None else max(worst, over)
        lines.append(
            f"  - run {i + 1}: {s.resolves} resolves, allowed {allowed} = {files} files + "
            f"{s.expiries} expiries + {s.resolves_429} answered 429 ({over:+d})"
        )
    if worst is None:
        return ["- target resolves ≤ files + expiries + rate-limit retries: **n/a**"]
    state = "met" if worst <= 0 else f"missed by {worst} resolves in the worst run"
    head = f"- target resolves ≤ files + expiries + rate-limit retries: **{state}**"
    return [head, *lines]


def cpu_beyond_lines(runs: Sequence[Timed], size: int, costs: Costs | None) -> list[str]:
    """CPU seconds per GB modelward spends beyond curl's copy and openssl's sha256."""
    mw, curl = median_cpu(runs, "modelward"), median_cpu(runs, "curl")
    if mw is None or curl is None or costs is None:
        return ["- target CPU s per GB beyond copy and hash < 0.3: **n/a**"]
    gb = size / 1e9
    hash_s = costs.hash_only_s * size / costs.size
    beyond = (mw - curl - hash_s) / gb
    parts = (
        f"modelward {mw / gb:.2f} - curl's copy {curl / gb:.2f} - sha256 {hash_s / gb:.2f} "
        f"(openssl {costs.sha256_cpu_s / (costs.size / 1e9):.2f} - cat "
        f"{costs.read_cpu_s / (costs.size / 1e9):.2f}) CPU s/GB"
    )
    return [
        verdict("CPU s per GB beyond copy and hash", beyond, 0.3, False, " s/GB"),
        f"  - {parts}",
    ]


def scale_memory_lines(runs: Sequence[Timed]) -> list[str]:
    """modelward's peak RSS (largest process, sampled VmHWM and wait4's ru_maxrss), flatness."""
    mine = [r for r in runs if r.client == "modelward"]
    if not mine:
        return []
    peak_kb = max(max(r.peak_rss_kb, r.tree_maxrss_kb) for r in mine)
    lines = [verdict("peak RSS of modelward", peak_kb / 1024, 300, False, " MiB")]
    for i, r in enumerate(mine):
        curve = ", ".join(f"{share:.0%}: {kb / 1024:,.0f}" for share, kb in r.rss_curve)
        lines.append(
            f"  - run {i + 1}: VmHWM {r.peak_rss_kb / 1024:,.0f} MiB, service ru_maxrss "
            f"{r.tree_maxrss_kb / 1024:,.0f} MiB; RSS (MiB) at each tenth of the bytes: {curve}"
        )
    lines.append(_flatness(mine))
    return lines


def _flatness(mine: Sequence[Timed]) -> str:
    """Flat: RSS after the first tenth of the bytes grows by at most 10%."""
    growths = []
    for r in mine:
        if len(r.rss_curve) >= 2:
            first = r.rss_curve[0][1]
            growths.append(max(kb for _, kb in r.rss_curve) / first - 1)
    if not growths:
        return "- target RSS flat: **n/a** (too few samples)"
    worst = max(growths)
    state = "met" if worst <= 0.10 else "missed"
    return f"- target RSS flat (≤ 10% growth after the first tenth): **{state}** (+{worst:.0%})"


def scale_rate_line(scale: ScaleProfile) -> list[str]:
    """The 20 GB throughput against the 2.2 GB figure (within 10%), and curl's for scale."""
    lines = []
    for key in ("modelward", "curl"):
        big = median_rate(scale.big.runs, key, scale.big.repo_size)
        ref = median_rate(scale.reference_runs, key, scale.reference_size)
        if key == "modelward":
            value = big / ref if big and ref else None
            name = "throughput ≥ 0.9x modelward's on the loopback repo"
            lines.append(verdict(name, value, 0.9, True, "x"))
        elif big and ref:
            lines.append(f"  - curl, for scale: {big / ref:.2f}x its rate on the loopback repo")
        if big and ref:
            where = f"{big / 1e6:,.0f} MB/s vs {ref / 1e6:,.0f} MB/s ({scale.reference_from})"
            lines[-1] += f" — {where}"
    return lines
