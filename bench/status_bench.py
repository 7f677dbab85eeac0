"""Status benchmark: how fast every surface reads the models' status.

Two figures, as issue 16 (finding 13) asks:

1. ``GET /api/v1/models/status`` under load: the local hub and a real service (``modelward
   serve``, uvicorn) on loopback, one model pulled, one download running with a bandwidth
   cap, and ``--clients`` concurrent clients (closed loop, no think time) asking for the
   status for ``--seconds``; p50 and p99 of their latencies (target: p99 under 50 ms). One
   client on the idle service first, for reference.
2. ``modelward status`` as a person runs it: ``python -m modelward status`` in a process of
   its own (start-up and imports included; no service running, so it derives the statuses
   itself) with a generated catalog of ``--entries`` entries over the same store (target:
   under 2 s), with ``--json`` and as the table a person sees. The first run, which asks the
   hub for the repos never resolved in that store and remembers them, is reported apart.

Run ``.venv/bin/python -m bench.status_bench`` from the repository root (``--help``: every
option); ``docs/BENCHMARKS.md`` ("Status reads") records the figures. Each figure is the
median of ``--runs`` runs: this is a shared 2-core machine, single runs are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.clients import base_env
from bench.procs import Registry

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PULLED = "ti2v-5b"
CAPPED = "t2v-a14b"
REPOS = (
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
    "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
)
# Different selections of the same repos, as people's catalogs have them.
GLOBS = ((), ("transformer/*",), ("text_encoder/*", "tokenizer/*"), ("vae/*", "*.json"))
P99_TARGET_MS = 50.0
CATALOG_TARGET_S = 2.0
READY_TIMEOUT_S = 60.0
STATUS_PATH = "/api/v1/models/status"
FLOOR_PATH = "/healthz"
"""The service's cheapest route: what any request costs on this machine under this load."""


@dataclass(frozen=True)
class Options:
    """Everything a run is configured with."""

    clients: int
    seconds: float
    runs: int
    entries: int
    scale: str
    rate: int
    workdir: Path | None
    json_out: Path | None
    httpx: bool


@dataclass
class Results:
    """Every figure measured, each a list of one value per run."""

    idle_p50_ms: list[float] = field(default_factory=list)
    load_p50_ms: list[float] = field(default_factory=list)
    load_p99_ms: list[float] = field(default_factory=list)
    load_requests: list[int] = field(default_factory=list)
    load_errors: list[int] = field(default_factory=list)
    service_cpu_ms: list[float] = field(default_factory=list)
    """The service's CPU time per status request under load (the download's included)."""
    floor_p50_ms: list[float] = field(default_factory=list)
    floor_p99_ms: list[float] = field(default_factory=list)
    download_running: list[bool] = field(default_factory=list)
    catalog_json_s: list[float] = field(default_factory=list)
    catalog_table_s: list[float] = field(default_factory=list)
    catalog_json_cpu_s: list[float] = field(default_factory=list)
    catalog_first_s: list[float] = field(default_factory=list)
    """The first run over a store that never resolved some of the catalog's repos."""
    startup_s: list[float] = field(default_factory=list)
    """``modelward status --help``: the command's start-up alone (imports)."""


def parse_args(argv: list[str] | None = None) -> Options:
    """Command line → Options."""
    p = argparse.ArgumentParser(prog="python -m bench.status_bench", description=__doc__)
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    p.add_argument("--seconds", type=float, default=10.0, help="load per run, seconds (10)")
    p.add_argument("--runs", type=int, default=3, help="runs of each figure; medians (3)")
    p.add_argument("--entries", type=int, default=20_000, help="catalog entries (20000)")
    p.add_argument("--scale", default="64MB", help="local hub bytes per repo (64MB)")
    p.add_argument("--rate", type=int, default=200_000, help="capped download, bytes/s")
    p.add_argument("--workdir", type=Path, default=None, help="keep files here")
    p.add_argument("--json", dest="json_out", type=Path, default=None, help="write figures")
    p.add_argument("--httpx", action="store_true", help="httpx clients, not the minimal one")
    a = p.parse_args(argv)
    return Options(
        a.clients, a.seconds, a.runs, a.entries, a.scale, a.rate, a.workdir, a.json_out, a.httpx
    )


def free_port() -> int:
    """A free loopback port (the service binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_hub(registry: Registry, work: Path, env: dict[str, str], scale: str) -> str:
    """The local hub (the three Wan2.2 repos at ``scale``) in its own process; its URL."""
    cmd = [sys.executable, "-m", "modelward.devhub", "--scale", scale, "--root", str(work / "hub")]
    with (work / "hub.log").open("ab") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
    registry.track(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()  # "modelward devhub serving at URL"
    if "serving at" not in line:
        raise SystemExit(f"the local hub did not start: {(work / 'hub.log').read_text()}")
    return line.split("serving at", 1)[1].strip()


def start_service(registry: Registry, work: Path, env: dict[str, str], hub: str) -> tuple[str, int]:
    """``modelward serve`` on a free loopback port; its URL once it answers, and its pid."""
    port = free_port()
    cmd = [sys.executable, "-m", "modelward", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--endpoint", hub, "--cache-dir", str(work / "cache")]
    proc = registry.spawn(cmd, {**env, "MODELWARD_TOKEN": TOKEN}, work / "service.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return url, proc.pid
        time.sleep(0.1)
    raise SystemExit(f"the service did not start: {(work / 'service.log').read_text()[-3000:]}")


def wait_for(client: httpx.Client, model_id: str, states: set[str], timeout_s: float) -> str:
    """Poll the model's download until its status is one of ``states``."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = str(client.get(f"/api/v1/models/{model_id}/download").json()["status"])
        if status in states or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def prepare_service(client: httpx.Client, rate: int) -> None:
    """One model pulled whole; a second one downloading at ``rate`` bytes/s from now on."""
    client.post(f"/api/v1/models/{PULLED}/download", headers=AUTH).raise_for_status()
    state = wait_for(client, PULLED, {"completed", "failed"}, 300)
    if state != "completed":
        raise SystemExit(f"pulling {PULLED} ended {state}")
    body = {"limit_bytes_per_s": rate}
    client.put(f"/api/v1/models/{CAPPED}/bandwidth", json=body, headers=AUTH).raise_for_status()
    client.post(f"/api/v1/models/{CAPPED}/download", headers=AUTH).raise_for_status()
    wait_for(client, CAPPED, {"downloading"}, 60)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends a GET and reads the answer with the
    least work: the client shares two cores with the service, and httpx's own cost per
    request would be measured as the service's latency."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> _Connection:
        """Connect to ``url`` (``http://host:port``)."""
        host, port = url.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    async def get(self, path: str) -> int:
        """GET ``path``; its status (the body is read whole, then dropped)."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(v)
            for k, _, v in (h.partition(":") for h in lines[1:])
            if k.lower() == "content-length"
        )
        await self.reader.readexactly(length)
        return int(lines[0].split(" ", 2)[1])

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class _HttpxConnection:
    """The same over httpx (``--httpx``: what a Python client of the API pays too)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=30)

    async def get(self, path: str) -> int:
        """GET ``path``; its status."""
        return (await self.client.get(path)).status_code

    async def close(self) -> None:
        """Close the client and its connection."""
        await self.client.aclose()


async def _client_loop(
    url: str, path: str, until: float, latencies: list[float], errors: list[int], lean: bool
) -> None:
    connection = await _Connection.open(url) if lean else _HttpxConnection(url)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            status = await connection.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors.append(status)
    finally:
        await connection.close()


async def _load(
    url: str, clients: int, seconds: float, path: str = STATUS_PATH, lean: bool = True
) -> tuple[list[float], list[int]]:
    """``clients`` closed-loop clients asking for ``path``, each on its own connection,
    for ``seconds`` (``lean``: the minimal client, else httpx)."""
    latencies: list[float] = []
    errors: list[int] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(_client_loop(url, path, until, latencies, errors, lean) for _ in range(clients))
    )
    return latencies, errors


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_idle(url: str, requests: int = 100) -> float:
    """p50 of one client's requests on the idle service, in ms."""
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/api/v1/models/status").raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            client.get("/api/v1/models/status").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies)


def measure_service(opts: Options, registry: Registry, work: Path, hub: str, out: Results) -> None:
    """The service figures: idle, then under load while the capped download runs."""
    env = base_env(work)
    url, pid = start_service(registry, work, env, hub)
    with httpx.Client(base_url=url, timeout=60) as client:
        out.idle_p50_ms.append(measure_idle(url))
        prepare_service(client, opts.rate)
        out.idle_p50_ms.append(measure_idle(url))  # idle reads while one download runs
        for _ in range(opts.runs):
            cpu = cpu_seconds(pid)
            load = _load(url, opts.clients, opts.seconds, lean=not opts.httpx)
            latencies, errors = asyncio.run(load)
            out.service_cpu_ms.append((cpu_seconds(pid) - cpu) * 1000 / max(len(latencies), 1))
            out.load_p50_ms.append(percentile(latencies, 0.50))
            out.load_p99_ms.append(percentile(latencies, 0.99))
            out.load_requests.append(len(latencies))
            out.load_errors.append(len(errors))
            floor_load = _load(url, opts.clients, opts.seconds / 2, FLOOR_PATH, not opts.httpx)
            floor, _ = asyncio.run(floor_load)
            out.floor_p50_ms.append(percentile(floor, 0.50))
            out.floor_p99_ms.append(percentile(floor, 0.99))
            state = client.get(f"/api/v1/models/{CAPPED}/download").json()["status"]
            out.download_running.append(state == "downloading")
    registry.stop_all_but_first()


def write_catalog(path: Path, entries: int) -> None:
    """A catalog of ``entries`` hub entries over the local hub's repos (docs/CATALOG.md)."""
    lines = []
    for n in range(entries):
        repo = REPOS[n % len(REPOS)]
        globs = GLOBS[(n // len(REPOS)) % len(GLOBS)]
        lines.append(f'[models.bench-{n:05d}]\nrepo = "{repo}"\nrevision = "main"')
        if globs:
            lines.append("include = [" + ", ".join(f'"{g}"' for g in globs) + "]")
        lines.append(f"expected_size_bytes = {1_000_000 * (n % 97 + 1)}\n")
    path.write_text("\n".join(lines), encoding="utf-8")


def time_cli_status(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds ``python -m modelward status ARGS`` takes as a process of its own (no service
    runs; its output goes to /dev/null): wall clock, and that process's CPU time (less moved
    by other work on the machine)."""
    cmd = [sys.executable, "-m", "modelward", "status", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode != 0:
        err = result.stderr.decode(errors="replace")[-2000:]
        raise SystemExit(f"modelward status failed ({result.returncode}): {err}")
    return elapsed, cpu


def measure_catalog(opts: Options, work: Path, hub: str, out: Results) -> None:
    """``modelward status`` over a generated catalog, on the store the service left."""
    catalog = work / "catalog.toml"
    write_catalog(catalog, opts.entries)
    env = base_env(work)
    args = ["--catalog", str(catalog), "--cache-dir", str(work / "cache"), "--endpoint", hub]
    # The first run asks the hub for what the store never resolved and remembers it.
    out.catalog_first_s.append(time_cli_status(args, env)[0])
    for _ in range(opts.runs):
        out.startup_s.append(time_cli_status(["--help"], env)[0])
        wall, cpu = time_cli_status([*args, "--json"], env)
        out.catalog_json_s.append(wall)
        out.catalog_json_cpu_s.append(cpu)
        out.catalog_table_s.append(time_cli_status(args, env)[0])


def render(opts: Options, out: Results, busy: str) -> str:
    """The figures as a table with targets and ratios."""
    med = statistics.median
    rows = [
        ("idle, 1 client, p50", med(out.idle_p50_ms[:1]), "ms", None),
        ("1 download running, 1 client, p50", med(out.idle_p50_ms[1:]), "ms", None),
        (f"{opts.clients} clients + 1 download, p50", med(out.load_p50_ms), "ms", None),
        (f"{opts.clients} clients + 1 download, p99", med(out.load_p99_ms), "ms", P99_TARGET_MS),
        (f"  same load on {FLOOR_PATH} (floor), p50", med(out.floor_p50_ms), "ms", None),
        (f"  same load on {FLOOR_PATH} (floor), p99", med(out.floor_p99_ms), "ms", None),
        ("  service CPU per status request", med(out.service_cpu_ms), "ms", None),
        (f"status, {opts.entries:,} entries, --json", med(out.catalog_json_s), "s", None),
        (f"status, {opts.entries:,} entries, table", med(out.catalog_table_s), "s", None),
        ("  CPU time of the --json run", med(out.catalog_json_cpu_s), "s", None),
        ("  first run (resolves the repos never seen)", out.catalog_first_s[0], "s", None),
        ("  start-up alone (status --help)", med(out.startup_s), "s", None),
    ]
    worst_catalog = max(med(out.catalog_json_s), med(out.catalog_table_s))
    lines = [
        f"{'figure':45} {'median':>10} {'target':>10} {'ratio':>7}",
        "-" * 75,
    ]
    for name, value, unit, target in rows:
        tgt = f"< {target:g} {unit}" if target else ""
        ratio = f"{value / target:.2f}" if target else ""
        lines.append(f"{name:45} {value:8.1f} {unit:<2}{tgt:>10} {ratio:>7}")
    lines.append(
        f"{'status, worst of the two':45} {worst_catalog:8.2f} s {'< 2 s':>10} "
        f"{worst_catalog / CATALOG_TARGET_S:7.2f}"
    )
    lines.append("")
    lines.append(
        f"runs: {opts.runs}; requests per run: {out.load_requests}; errors: {out.load_errors}; "
        f"download running at each run's end: {out.download_running}"
    )
    lines.append(f"each run (ms): p50 {_fmt(out.load_p50_ms)}, p99 {_fmt(out.load_p99_ms)}")
    lines.append(
        f"each run (s): --json {_fmt(out.catalog_json_s)}, table {_fmt(out.catalog_table_s)}"
    )
    lines.append(f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) {busy}")
    return "\n".join(lines)


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.1f}" if v >= 10 else f"{v:.2f}" for v in values) + "]"


def main(argv: list[str] | None = None) -> None:
    """Run both parts and print the table."""
    opts = parse_args(argv)
    busy = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = opts.workdir or Path(tempfile.mkdtemp(prefix="mw-status-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    registry = _Registry()
    out = Results()
    try:
        hub = start_hub(registry, work, base_env(work), opts.scale)
        measure_service(opts, registry, work, hub, out)
        measure_catalog(opts, work, hub, out)
    finally:
        registry.stop_all()
        if opts.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    at_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(render(opts, out, f"at the start: {busy}; at the end: {at_end}"))
    if opts.json_out is not None:
        opts.json_out.write_text(json.dumps(out.__dict__, indent=1) + "\n")


class _Registry(Registry):
    """The benchmark's processes: the hub first, then the service."""

    def stop_all_but_first(self) -> None:
        """Stop the service (SIGTERM, as a person would), keep the hub."""
        from bench.procs import stop

        for proc in self._procs[1:]:
            stop(proc)
        del self._procs[1:]


if __name__ == "__main__":
    main()
