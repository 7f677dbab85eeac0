"""The integrity benchmark's results and their markdown tables, with its targets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

VERIFY_TARGET = 0.9
"""modelward's full check at ≥ 90% of openssl's MB/s over the same files."""
QUICK_TARGET_MS = 50.0
STRUCTURAL_TARGET_BYTES = 1_000_000


@dataclass(frozen=True)
class VerifyRun:
    """One full-verify pass over a model's files by one tool."""

    model: str
    files: int
    size: int
    cache: str
    tool: str
    wall_s: float
    cpu_s: float
    others_cpu_s: float
    ok: bool
    note: str = ""


@dataclass(frozen=True)
class CheckRuns:
    """Repeated quick checks of one model through one call."""

    model: str
    files: int
    call: str
    cache: str
    wall_ms: tuple[float, ...]
    healthy: bool


@dataclass(frozen=True)
class StructuralRuns:
    """Repeated structural checks of one model, with the bytes each read."""

    model: str
    files: int
    size: int
    cache: str
    wall_ms: tuple[float, ...]
    rchar: tuple[int, ...]
    read_bytes: tuple[int, ...]
    healthy: bool


@dataclass(frozen=True)
class ReadShare:
    """What the structural check of one kind of file reads (``check_file`` one by one)."""

    kind: str
    files: int
    file_bytes: int
    rchar: int
    wall_ms: float


@dataclass(frozen=True)
class Damage:
    """The corruption the repair section makes, and what the repair planned to fetch."""

    path: str
    size: int
    offset: int
    length: int
    block_bytes: int
    refetch_ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class RepairRun:
    """One way of mending the damaged file, once."""

    method: str
    does: str
    wall_s: float
    cpu_s: float
    hub_cpu_s: float
    hub_bytes: int
    hub_requests: int
    own_bytes: int | None
    ok: bool
    note: str = ""


@dataclass
class HealthResults:
    """Everything one run of the integrity benchmark measured."""

    environment: dict[str, str]
    models: dict[str, tuple[int, int]]
    """Model id → (files, bytes)."""
    verify: list[VerifyRun] = field(default_factory=list)
    quick: list[CheckRuns] = field(default_factory=list)
    structural: list[StructuralRuns] = field(default_factory=list)
    shares: list[ReadShare] = field(default_factory=list)
    damage: Damage | None = None
    repair: list[RepairRun] = field(default_factory=list)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def _verify_rate(res: HealthResults, model: str, cache: str, tool: str) -> float | None:
    runs = [
        r
        for r in res.verify
        if (r.model, r.cache, r.tool) == (model, cache, tool) and r.ok and r.wall_s > 0
    ]
    return runs[0].size / _median([r.wall_s for r in runs]) if runs else None


def verify_table(res: HealthResults) -> list[str]:
    """Median MB/s and CPU of modelward's full check and of openssl over the same files."""
    rows: list[list[object]] = []
    keys = dict.fromkeys((r.model, r.cache, r.tool) for r in res.verify)
    for model, cache, tool in keys:
        runs = [r for r in res.verify if (r.model, r.cache, r.tool) == (model, cache, tool)]
        good = [r for r in runs if r.ok]
        rate = _verify_rate(res, model, cache, tool)
        base = _verify_rate(res, model, cache, "openssl")
        label = "modelward check FULL" if tool == "modelward" else "openssl dgst -sha256"
        each = ", ".join(f"{r.wall_s:.2f}" if r.ok else f"FAIL ({r.note})" for r in runs)
        rows.append(
            [
                model,
                runs[0].files,
                _gb(runs[0].size),
                cache,
                label,
                f"{_median([r.wall_s for r in good]):.2f}" if good else "-",
                f"{rate / 1e6:,.0f}" if rate else "-",
                f"{rate / base:.2f}x" if rate and base else "-",
                f"{_median([r.cpu_s for r in good]):.2f}" if good else "-",
                f"{_median([r.others_cpu_s for r in good]):.2f}" if good else "-",
                each,
            ]
        )
    header = [
        "model",
        "files",
        "size",
        "page cache",
        "tool",
        "median s",
        "MB/s",
        "vs openssl",
        "CPU s",
        "other procs CPU s",
        "each run, s",
    ]
    return _table(header, rows)


def verify_verdicts(res: HealthResults) -> list[str]:
    """modelward ≥ 90% of openssl's MB/s, per model and page cache state."""
    lines = []
    for model, cache in dict.fromkeys((r.model, r.cache) for r in res.verify):
        mw = _verify_rate(res, model, cache, "modelward")
        ssl = _verify_rate(res, model, cache, "openssl")
        if not mw or not ssl:
            lines.append(f"- target ≥ {VERIFY_TARGET:.0%} of openssl ({model}, {cache}): **n/a**")
            continue
        verdict = "met" if mw >= VERIFY_TARGET * ssl else "missed"
        lines.append(
            f"- target ≥ {VERIFY_TARGET:.0%} of openssl ({model}, {cache}): "
            f"**{verdict}** ({mw / ssl:.1%})"
        )
    return lines


def quick_table(res: HealthResults) -> list[str]:
    """Wall time of the quick check: median and worst of the runs."""
    rows = []
    for q in res.quick:
        median = _median(q.wall_ms)
        verdict = "met" if median < QUICK_TARGET_MS else "missed"
        rows.append(
            [
                q.model,
                q.files,
                q.call,
                q.cache,
                f"{median:.1f}",
                f"{max(q.wall_ms):.1f}",
                len(q.wall_ms),
                "yes" if q.healthy else "NO",
                verdict,
            ]
        )
    header = [
        "model",
        "files",
        "call",
        "page cache",
        "median ms",
        "max ms",
        "runs",
        "healthy",
        f"< {QUICK_TARGET_MS:g} ms",
    ]
    return _table(header, rows)


def structural_table(res: HealthResults) -> list[str]:
    """Bytes read and wall time of the structural check."""
    rows = []
    for s in res.structural:
        rchar = int(_median(s.rchar))
        verdict = "met" if rchar < STRUCTURAL_TARGET_BYTES else "missed"
        rows.append(
            [
                s.model,
                s.files,
                _gb(s.size),
                s.cache,
                f"{_median(s.wall_ms):.1f}",
                f"{rchar:,}",
                f"{int(_median(s.read_bytes)):,}",
                len(s.wall_ms),
                "yes" if s.healthy else "NO",
                verdict,
            ]
        )
    header = [
        "model",
        "files",
        "size",
        "page cache",
        "median ms",
        "bytes read (rchar)",
        "from disk (read_bytes)",
        "runs",
        "healthy",
        "< 1 MB read",
    ]
    return _table(header, rows)


def shares_table(res: HealthResults) -> list[str]:
    """Where the structural check's reads go, by kind of file."""
    rows: list[list[object]] = [
        [s.kind, s.files, f"{s.file_bytes:,}", f"{s.rchar:,}", f"{s.wall_ms:.1f}"]
        for s in res.shares
    ]
    if res.structural and res.shares:
        warm = next((s for s in res.structural if s.cache == "warm"), res.structural[0])
        rest = int(_median(warm.rchar)) - sum(s.rchar for s in res.shares)
        # Negative when the call reads less than its files alone would: it takes a verified
        # index's shard names from its record instead of parsing the index again.
        label = "the whole call minus the files alone (records in, cached indexes out)"
        rows.append([label, "-", "-", f"{rest:,}", "-"])
    header = ["files", "count", "their size, bytes", "bytes read (rchar)", "ms"]
    return _table(header, rows)


def repair_table(res: HealthResults) -> list[str]:
    """Bytes fetched and wall time of the repair and of the re-downloads."""
    methods = dict.fromkeys(r.method for r in res.repair)
    pull = [r for r in res.repair if r.method.startswith("modelward pull") and r.ok]
    base_bytes = _median([r.hub_bytes for r in pull]) if pull else None
    rows: list[list[object]] = []
    for method in methods:
        runs = [r for r in res.repair if r.method == method]
        good = [r for r in runs if r.ok]
        sent = int(_median([r.hub_bytes for r in good])) if good else None
        own = [r.own_bytes for r in good if r.own_bytes is not None]
        share = f"{sent / base_bytes:.2%}" if sent and base_bytes else "-"
        rows.append(
            [
                method,
                runs[0].does,
                f"{sent:,}" if sent is not None else "-",
                f"{int(_median(own)):,}" if own else "-",
                share,
                int(_median([r.hub_requests for r in good])) if good else "-",
                f"{_median([r.wall_s for r in good]):.2f}" if good else "-",
                f"{_median([r.cpu_s for r in good]):.2f}" if good else "-",
                f"{_median([r.hub_cpu_s for r in good]):.2f}" if good else "-",
                ", ".join(f"{r.wall_s:.2f}" if r.ok else f"FAIL ({r.note})" for r in runs),
            ]
        )
    notes = [
        f"- {r.method}, run {i + 1}: {r.note}"
        for method in methods
        for i, r in enumerate(x for x in res.repair if x.method == method)
        if r.note and r.ok
    ]
    header = [
        "method",
        "does",
        "hub sent, bytes (log)",
        "modelward's count",
        "vs re-pull",
        "file requests",
        "median s",
        "CPU s",
        "hub CPU s",
        "each run, s",
    ]
    return [*_table(header, rows), *(["", *notes] if notes else [])]


def _damage_line(d: Damage) -> str:
    blocks = ", ".join(f"[{a:,}, {b:,})" for a, b in d.refetch_ranges)
    return (
        f"damage: {d.length:,} bytes XORed at offset {d.offset:,} (block "
        f"{d.offset // d.block_bytes} of {-(-d.size // d.block_bytes)}, "
        f"{d.block_bytes // 2**20} MiB blocks) of `{d.path}`, {d.size:,} bytes "
        f"({d.size / 2**30:.2f} GiB); the repair planned to fetch {blocks}"
    )


def render(res: HealthResults) -> str:
    """The whole report as markdown."""
    out = ["# modelward integrity benchmark", ""]
    out += [f"- {k}: {v}" for k, v in res.environment.items()]
    out += [
        f"- model {m}: {files} files, {size:,} bytes ({size / 2**30:.2f} GiB)"
        for m, (files, size) in res.models.items()
    ]
    out += ["- MB = 10^6 bytes; medians over the runs", ""]
    if res.verify:
        out += ["## 1. Full verify: modelward's full check vs openssl, same files", ""]
        out += [*verify_table(res), "", *verify_verdicts(res), ""]
    if res.quick:
        out += ["## 2. Quick check of an unchanged store", "", *quick_table(res), ""]
    if res.structural:
        out += ["## 3. Structural check: bytes read and time", "", *structural_table(res), ""]
        if res.shares:
            out += ["Where the reads go (warm, `check_file` on each file alone):", ""]
            out += [*shares_table(res), ""]
    if res.repair:
        out += ["## 4. Repair of a 4 KiB corruption vs fetching the file again", ""]
        if res.damage is not None:
            out += [_damage_line(res.damage), ""]
        out += [*repair_table(res), ""]
    return "\n".join(out)
