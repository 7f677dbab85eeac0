"""The WAN and scale profiles (issue 17), each on a hub process of its own.

- **wan**: the local hub with the real Hub's manners (HTTPS with a CA made for the run, a
  round trip charged per connection and per request, CDN URLs expiring, ``resolve``
  rate-limited) and a cap per connection; modelward, aria2c -x8 -s8, huggingface_hub and
  curl, every one trusting the hub's CA.
- **scale**: the TI2V-5B repo id laid out as 20 GB with two 8 GB shards, unthrottled
  loopback; modelward (and curl for reference), its peak RSS and its throughput against
  the 2.2 GB figure of the same run.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.clients import (
    Client,
    Invocation,
    aria2c_split,
    curl_sequential,
    hf_snapshot,
    modelward_pull,
    trusting,
)
from bench.config import Options
from bench.hubproc import Hub, HubSettings, start_hub
from bench.procs import Registry
from bench.report_net import NetProfile, ScaleProfile
from bench.scenarios import Runner, Timed

DOES = {
    "modelward": "download + sha256 verify",
    "aria2c": "download only",
    "hf": "download + size check",
    "curl": "download only",
}


def clients_for(opts: Options, hub: Hub, env: dict[str, str], keys: list[str]) -> list[Client]:
    """The named clients against ``hub``, trusting its CA when it speaks HTTPS."""
    env = trusting(env, hub)
    makers: dict[str, tuple[str, Callable[[Path], Invocation]]] = {
        "modelward": ("modelward pull", modelward_pull(opts, hub, env)),
        "aria2c": ("aria2c -x8 -s8", aria2c_split(hub, env)),
        "hf": ("huggingface_hub.snapshot_download", hf_snapshot(opts, hub, env)),
        "curl": ("curl (sequential)", curl_sequential(hub, env)),
    }
    return [Client(k, makers[k][0], DOES[k], makers[k][1]) for k in keys]


def timed_runs(runner: Runner, clients: list[Client], repeats: int, tag: str) -> list[Timed]:
    """``repeats`` rounds of every client in turn (interleaved, so drift hits all alike)."""
    runs = []
    for rep in range(repeats):
        for c in clients:
            runs.append(runner.timed(c, tag))
            print(f"[{tag}] run {rep + 1}: {runs[-1]}", file=sys.stderr, flush=True)
    return runs


def wan_settings(opts: Options) -> HubSettings:
    """The WAN hub's settings from the options."""
    w = opts.wan
    return HubSettings(
        opts.scale,
        tls=True,
        rtt_ms=w.rtt_ms,
        cdn_url_ttl_s=w.cdn_url_ttl_s,
        rate_limit=w.rate_limit,
        rate_window_s=w.rate_window_s,
    )


def describe_wan(opts: Options) -> str:
    """One line saying what the WAN profile's hub does."""
    w = opts.wan
    return (
        f"HTTPS (hub and CDN on separate origins, CA made for the run), {w.rtt_ms:g} ms round "
        f"trip per new connection and per request, {w.per_conn_rate / 1e6:g} MB/s per "
        f"connection, CDN URLs expiring after {w.cdn_url_ttl_s:g} s, resolve and /api calls "
        f"limited to {w.rate_limit} per {w.rate_window_s:g} s (a fresh window for each run)"
    )


def run_wan(
    opts: Options, registry: Registry, workdir: Path, env: dict[str, str], runner_for: RunnerFor
) -> NetProfile:
    """The WAN profile: four clients, ``opts.repeats`` rounds."""
    log = workdir / "logs" / "hub-wan.log"
    print("starting the WAN hub (HTTPS, latency, expiring URLs, rate limit) ...", file=sys.stderr)
    hub = start_hub(registry, opts.python, workdir / "hub", wan_settings(opts), env, log)
    try:
        hub.set_rate(opts.wan.per_conn_rate)
        clients = clients_for(opts, hub, env, ["modelward", "aria2c", "hf", "curl"])
        profile = NetProfile(
            "6. WAN: HTTPS, latency, expiring CDN URLs, rate limit",
            hub.repo_size,
            len(hub.files),
            describe_wan(opts),
            clients,
        )
        profile.runs = timed_runs(runner_for(hub), clients, opts.repeats, "wan")
        return profile
    finally:
        hub.close()


def run_scale(
    opts: Options,
    registry: Registry,
    workdir: Path,
    env: dict[str, str],
    runner_for: RunnerFor,
    reference: Reference | None,
) -> ScaleProfile:
    """The scale profile; ``reference``: loopback runs of this benchmark run, if any."""
    if reference is None:
        reference = _reference(opts, registry, workdir, env, runner_for)
    root = workdir / "hub-scale"
    _check_space(workdir, opts.scale_size)
    print(f"materialising the {opts.scale_size} scale repo under {root} ...", file=sys.stderr)
    settings = HubSettings(opts.scale_size, shape="scale")
    hub = start_hub(registry, opts.python, root, settings, env, workdir / "logs" / "hub-scale.log")
    try:
        keys = ["modelward", "curl"] if opts.scale_curl else ["modelward"]
        clients = clients_for(opts, hub, env, keys)
        biggest = max(f.size for f in hub.files) / 1e9
        big = NetProfile(
            f"7. Scale: {hub.repo_size / 1e9:.1f} GB repo, unthrottled loopback",
            hub.repo_size,
            len(hub.files),
            f"two shards of {biggest:.1f} GB; each run's copy deleted before the next",
            clients,
        )
        big.runs = timed_runs(runner_for(hub), clients, opts.scale_repeats, "scale")
    finally:
        hub.close()
        shutil.rmtree(root, ignore_errors=True)
    return ScaleProfile(big, list(reference.runs), reference.size, reference.source)


@dataclass(frozen=True)
class Reference:
    """Unthrottled loopback runs the scale profile's throughput is compared with."""

    runs: list[Timed]
    size: int
    source: str


def _reference(
    opts: Options, registry: Registry, workdir: Path, env: dict[str, str], runner_for: RunnerFor
) -> Reference:
    """modelward (and curl) on the loopback repo, when the loopback profile did not run."""
    log = workdir / "logs" / "hub-reference.log"
    hub = start_hub(registry, opts.python, workdir / "hub", HubSettings(opts.scale), env, log)
    try:
        keys = ["modelward", "curl"] if opts.scale_curl else ["modelward"]
        clients = clients_for(opts, hub, env, keys)
        runs = timed_runs(runner_for(hub), clients, opts.repeats, "scale-reference")
        source = f"{opts.scale} repo, {opts.repeats} run(s) each in this profile"
        return Reference(runs, hub.repo_size, source)
    finally:
        hub.close()


def _check_space(workdir: Path, size: str) -> None:
    """The hub's copy plus one client's copy must fit, with 2 GB to spare."""
    from bench.sizes import parse_bytes

    need = 2 * parse_bytes(size) + 2 * 10**9
    free = shutil.disk_usage(workdir).free
    if free < need:
        raise SystemExit(
            f"scale profile needs {need / 1e9:.0f} GB free under {workdir}, has {free / 1e9:.0f} GB"
        )


class RunnerFor:
    """Makes a ``Runner`` for a hub (the workdir, registry and time limit are shared)."""

    def __init__(self, registry: Registry, workdir: Path, timeout_s: float) -> None:
        self.registry, self.workdir, self.timeout_s = registry, workdir, timeout_s

    def __call__(self, hub: Hub) -> Runner:
        return Runner(self.registry, hub, self.workdir, self.timeout_s)
