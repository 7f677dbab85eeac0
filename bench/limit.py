"""Section 4: modelward's bandwidth cap, at start (``pull --limit``) and changed live.

Rates are measured from bytes landing in the store (sampled every 50 ms) over a window
that starts one second after the first byte, so connection set-up is not counted.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.clients import Invocation
from bench.config import MODEL_ID, Options
from bench.hubproc import Hub
from bench.procs import Sample, bytes_on_disk, stop
from bench.scenarios import Runner

NOT_YET = "n/a (not implemented yet)"
WARMUP_S = 1.0


@dataclass(frozen=True)
class CapResult:
    """One cap measurement: the target, what was measured, and when a change took effect."""

    label: str
    target: int
    measured: float | None = None
    effect_s: float | None = None
    note: str = ""

    @property
    def error(self) -> float | None:
        """Relative error of the measured rate (0.03 = 3 % over the cap)."""
        if self.measured is None or not self.target:
            return None
        return self.measured / self.target - 1


def bytes_at(samples: list[Sample], t: float) -> float:
    """Bytes on disk at time ``t``, interpolated between samples."""
    prev = samples[0]
    for s in samples:
        if s.t >= t:
            if s.t == prev.t:
                return float(s.disk)
            return prev.disk + (s.disk - prev.disk) * (t - prev.t) / (s.t - prev.t)
        prev = s
    return float(samples[-1].disk)


def rate_over(samples: list[Sample], start: float, length: float) -> float | None:
    """Average bytes/s over ``[start, start + length]`` (None if the samples end first)."""
    if not samples or samples[-1].t < start + length:
        return None
    return (bytes_at(samples, start + length) - bytes_at(samples, start)) / length


def first_byte_t(samples: list[Sample]) -> float | None:
    """When the first byte reached the disk."""
    return next((s.t for s in samples if s.disk > 0), None)


def pull_with_limit(runner: Runner, inv: Invocation, opts: Options, value: str) -> CapResult:
    """``modelward pull --limit VALUE`` for one window, then kill it; the measured rate."""
    label = f"pull --limit {value}"
    state: dict[str, float] = {}

    def enough(s: Sample) -> bool:
        if "t0" not in state and s.disk > 0:
            state["t0"] = s.t
        return "t0" in state and s.t >= state["t0"] + WARMUP_S + opts.window_s + 0.2

    cmd = [*inv.cmd, "--limit", value]
    timeout = opts.window_s + 120
    limited = dataclasses.replace(inv, cmd=cmd)
    watched, log = runner.launch(limited, "limit", enough, timeout)
    if watched.returncode == 2 and not watched.stopped_by_watcher:
        return CapResult(label, opts.cap_rate, note=f"rejected, see {log.name}")
    t0 = first_byte_t(watched.samples)
    rate = rate_over(watched.samples, t0 + WARMUP_S, opts.window_s) if t0 is not None else None
    note = "" if rate is not None else "repo finished before the window ended"
    return CapResult(label, opts.cap_rate, rate, note=note)


def check_pull_limit(runner: Runner, inv: Invocation, opts: Options) -> CapResult:
    """Try ``--limit 20MB``, then ``--limit 20MB/s`` if the first spelling is refused."""
    value = f"{opts.cap_rate / 1e6:g}MB"
    result = pull_with_limit(runner, inv, opts, value)
    if result.note.startswith("rejected"):
        result = pull_with_limit(runner, inv, opts, value + "/s")
    return result


# --- the live change, through the service ---------------------------------------------------


def free_port() -> int:
    """A port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _schema(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return dict(doc["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return node


def bandwidth_route(doc: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """``(method, path, operation)`` of the service's bandwidth route, if it has one."""
    for path, ops in doc.get("paths", {}).items():
        if "bandwidth" not in path:
            continue
        for method in ("post", "put", "patch"):
            if method in ops:
                return method.upper(), path, ops[method]
    return None


def bandwidth_request(
    doc: dict[str, Any], op: dict[str, Any], rate: int
) -> tuple[str, dict[str, Any]]:
    """Where (``json`` body or query ``params``) and what to send to cap at ``rate`` bytes/s.

    The route's field is found by name in its OpenAPI schema: a name with ``bytes`` gets
    bytes/s; a string field gets ``"50MB"``; any other number gets MB/s (the seed's
    ``limit_mbps`` is megabytes per second).
    """
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    props = _schema(doc, body.get("schema", {})).get("properties", {}) if body else {}
    params = {p["name"]: p.get("schema", {}) for p in op.get("parameters", [])}
    fields, where = (props, "json") if props else (params, "params")
    for name, spec in fields.items():
        if any(key in name.lower() for key in ("limit", "rate", "mbps", "bytes", "bandwidth")):
            spec = _schema(doc, spec)
            if "bytes" in name.lower():
                value: object = rate
            elif spec.get("type") == "string":
                value = f"{rate / 1e6:g}MB"
            elif "mib" in str(spec.get("description", "")).lower():
                value = rate / 2**20  # the field says its unit: binary megabytes
            else:
                value = rate / 1e6
            return where, {name: value}
    return "json", {"limit_mbps": rate / 1e6}


class Service:
    """``modelward serve`` in a child process, with its token."""

    TOKEN = "bench-token"

    def __init__(self, runner: Runner, opts: Options, hub: Hub, env: dict[str, str], run: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.roots = (run / "cache", run / "home")
        cmd = [*opts.modelward_cmd, "serve", "--port", str(self.port)]
        cmd += ["--cache-dir", str(run / "cache"), "--endpoint", hub.url]
        child_env = {**env, "MODELWARD_HOME": str(run / "home"), "MODELWARD_TOKEN": self.TOKEN}
        self.proc: subprocess.Popen[bytes] = runner.registry.spawn(
            cmd, child_env, runner.logs / "service.log"
        )
        self.http = httpx.Client(
            base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {self.TOKEN}"}
        )

    def wait_ready(self, timeout_s: float = 60) -> bool:
        """Wait for ``/healthz``; False if the service died or stayed silent."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        return False

    def set_cap(
        self, doc: dict[str, Any], route: tuple[str, str, dict[str, Any]], rate: int
    ) -> None:
        """Set the service's bandwidth cap to ``rate`` bytes/s through ``route``."""
        method, path, op = route
        where, payload = bandwidth_request(doc, op, rate)
        if where == "json":
            self.http.request(method, path, json=payload).raise_for_status()
        else:
            self.http.request(method, path, params=payload).raise_for_status()

    def close(self) -> None:
        """Stop the service by pid."""
        self.http.close()
        stop(self.proc)


def _sample_until(
    roots: tuple[Path, ...], t_zero: float, until: float, out: list[Sample], any_bytes: bool = False
) -> None:
    """Append disk samples every 50 ms until ``until`` s (or the first byte, if asked)."""
    while time.monotonic() - t_zero < until:
        out.append(Sample(time.monotonic() - t_zero, bytes_on_disk(roots), 0, 0))
        if any_bytes and out[-1].disk > 0:
            return
        time.sleep(0.05)


def fit_line(samples: list[Sample], start: float, end: float) -> tuple[float, float] | None:
    """Least-squares ``(slope, intercept)`` of bytes over time within ``[start, end]``."""
    pts = [(s.t, float(s.disk)) for s in samples if start <= s.t <= end]
    if len(pts) < 3:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mb = sum(b for _, b in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    if var == 0:
        return None
    slope = sum((t - mt) * (b - mb) for t, b in pts) / var
    return slope, mb - slope * mt


def effect_delay(
    before: tuple[float, float], after: tuple[float, float], at: float
) -> float | None:
    """Seconds from the change request to where the old-rate and new-rate lines cross.

    Fitting both steady phases and intersecting them is robust to sampling noise; a cap
    applied instantly gives about 0.
    """
    (s1, c1), (s2, c2) = before, after
    if abs(s2 - s1) < 1:
        return None
    return (c1 - c2) / (s2 - s1) - at


def _unless(value: float | None, note: str) -> str:
    return "" if value is not None else note


def live_change(runner: Runner, opts: Options, hub: Hub, env: dict[str, str]) -> list[CapResult]:
    """Through the service: cap at 20 MB/s, download, change to 50 MB/s, measure both."""
    first, second = opts.cap_rate, opts.cap_changed_rate
    run = runner.fresh_dir("service")
    service = Service(runner, opts, hub, env, run)
    try:
        if not service.wait_ready():
            return [CapResult("live change", second, note="service did not start")]
        doc = service.http.get("/openapi.json").json()
        route = bandwidth_route(doc)
        if route is None:
            return [CapResult("live change", second, note=NOT_YET)]
        service.set_cap(doc, route, first)
        t_zero = time.monotonic()
        service.http.post(f"/api/v1/models/{MODEL_ID}/download").raise_for_status()
        samples: list[Sample] = []
        _sample_until(service.roots, t_zero, 60, samples, any_bytes=True)
        t0 = first_byte_t(samples)
        if t0 is None:
            return [CapResult("live change", second, note="no bytes within 60 s")]
        _sample_until(service.roots, t_zero, t0 + WARMUP_S + opts.window_s + 0.3, samples)
        changed_at = time.monotonic() - t_zero
        service.set_cap(doc, route, second)
        # A little past the window's end, so the last sample covers it.
        _sample_until(service.roots, t_zero, changed_at + 2 + opts.window_s + 0.3, samples)
        pre = fit_line(samples, t0 + WARMUP_S, changed_at)
        post = fit_line(samples, changed_at + 2, changed_at + 2 + opts.window_s)
        before = rate_over(samples, t0 + WARMUP_S, opts.window_s)
        after = rate_over(samples, changed_at + 2, opts.window_s)
        effect = effect_delay(pre, post, changed_at) if pre and post else None
        late = "repo finished before the window ended"
        return [
            CapResult(
                f"service cap {first / 1e6:g} MB/s", first, before, note=_unless(before, late)
            ),
            CapResult(
                f"live change to {second / 1e6:g} MB/s", second, after, effect, _unless(after, late)
            ),
        ]
    except (httpx.HTTPError, json.JSONDecodeError, KeyError) as exc:
        return [CapResult("live change", second, note=f"failed: {exc}")]
    finally:
        service.close()
