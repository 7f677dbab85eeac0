"""The benchmark's options: command line → one frozen ``Options``."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ID = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
MODEL_ID = "ti2v-5b"
MB = 1_000_000


@dataclass(frozen=True)
class Options:
    """Everything a run is configured with."""

    scale: str
    repeats: int
    workdir: Path | None
    keep: bool
    per_conn_rate: int
    cap_rate: int
    cap_changed_rate: int
    window_s: float
    run_timeout_s: float
    modelward_cmd: tuple[str, ...]
    modelward_args: tuple[str, ...]
    python: str
    skip_setup: bool
    only: frozenset[str]
    json_out: Path | None
    profiles: tuple[str, ...] = ("loopback",)
    wan: WanSettings = field(default_factory=lambda: WanSettings())
    scale_size: str = "20GB"
    scale_repeats: int = 1
    scale_curl: bool = True

    def wants(self, section: str) -> bool:
        """Whether ``section`` (throughput, capped, kill, limit, memory) is to run."""
        return not self.only or section in self.only


@dataclass(frozen=True)
class WanSettings:
    """The WAN profile: the real Hub's manners on the local hub (issue 17)."""

    rtt_ms: float = 40.0
    per_conn_rate: int = 25 * MB
    cdn_url_ttl_s: float = 60.0
    rate_limit: int = 100
    rate_window_s: float = 60.0


SECTIONS = ("throughput", "capped", "kill", "limit")
PROFILES = ("loopback", "wan", "scale")


def _default_modelward() -> str:
    """The ``modelward`` script next to this interpreter, else whatever is on PATH."""
    beside = Path(sys.executable).with_name("modelward")
    if beside.exists():
        return str(beside)
    return shutil.which("modelward") or "modelward"


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench``."""
    p = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="modelward vs curl, aria2c -x8 -s8 and huggingface_hub on a local hub.",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: --scale 300MB --repeats 1 --window 2"
    )
    p.add_argument("--scale", default=None, help="size of the synthetic repo (default 2.2GB)")
    p.add_argument("--repeats", type=int, default=None, help="runs per tool (default 3)")
    p.add_argument("--workdir", type=Path, default=None, help="scratch dir (default: /tmp/...)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dir afterwards")
    p.add_argument("--per-conn-rate", default="50MB", help="hub's per-connection cap (2., 3.)")
    p.add_argument("--cap", default="20MB", help="modelward's bandwidth cap to check (4.)")
    p.add_argument("--cap-changed", default="50MB", help="the cap after the live change (4.)")
    p.add_argument(
        "--window", type=float, default=None, help="cap measurement window, s (default 10)"
    )
    p.add_argument("--run-timeout", type=float, default=300.0, help="limit per tool run, s")
    p.add_argument(
        "--modelward", default=None, help="command that runs modelward (default: venv script)"
    )
    p.add_argument(
        "--modelward-arg",
        action="append",
        default=[],
        help="extra argument for every 'modelward pull' (repeatable), e.g. --connections=8",
    )
    p.add_argument("--skip-setup", action="store_true", help="do not apt-get install tools")
    p.add_argument(
        "--only", action="append", choices=SECTIONS, default=[], help="run only these sections"
    )
    p.add_argument("--json", type=Path, default=None, help="also write raw results here")
    _profile_options(p)
    return p


def _profile_options(p: argparse.ArgumentParser) -> None:
    """``--profile`` and the settings of the WAN and scale profiles."""
    p.add_argument(
        "--profile",
        action="append",
        choices=(*PROFILES, "all"),
        default=[],
        help="loopback (default: sections 1-5), wan (HTTPS, latency, expiring URLs, rate "
        "limit), scale (20 GB repo, two 8 GB shards); repeatable",
    )
    p.add_argument("--wan-rtt-ms", type=float, default=40.0, help="WAN round trip, ms")
    p.add_argument("--wan-per-conn-rate", default="25MB", help="WAN cap per connection")
    p.add_argument("--wan-ttl", type=float, default=60.0, help="WAN CDN URL lifetime, s")
    p.add_argument("--wan-rate-limit", type=int, default=100, help="WAN resolves per window")
    p.add_argument("--wan-rate-window", type=float, default=60.0, help="WAN window, s")
    p.add_argument("--scale-size", default=None, help="scale repo (default 20GB; quick 4GB)")
    p.add_argument("--scale-repeats", type=int, default=None, help="scale runs (default 1)")
    p.add_argument("--no-scale-curl", action="store_true", help="scale: modelward only")


def parse_options(argv: list[str] | None = None) -> Options:
    """Parse ``argv`` into ``Options``; ``--quick`` only changes unset defaults."""
    from bench.sizes import parse_bytes

    ns = build_parser().parse_args(argv)
    scale = ns.scale or ("300MB" if ns.quick else "2.2GB")
    repeats = ns.repeats or (1 if ns.quick else 3)
    if repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    return Options(
        scale=scale,
        repeats=repeats,
        workdir=ns.workdir,
        keep=ns.keep,
        per_conn_rate=parse_bytes(ns.per_conn_rate),
        cap_rate=parse_bytes(ns.cap),
        cap_changed_rate=parse_bytes(ns.cap_changed),
        window_s=ns.window or (2.0 if ns.quick else 10.0),
        run_timeout_s=ns.run_timeout,
        modelward_cmd=tuple(shlex.split(ns.modelward or _default_modelward())),
        modelward_args=tuple(ns.modelward_arg),
        python=sys.executable,
        skip_setup=ns.skip_setup,
        only=frozenset(ns.only),
        json_out=ns.json,
        profiles=_profiles(ns.profile),
        wan=WanSettings(
            ns.wan_rtt_ms,
            parse_bytes(ns.wan_per_conn_rate),
            ns.wan_ttl,
            ns.wan_rate_limit,
            ns.wan_rate_window,
        ),
        scale_size=ns.scale_size or ("4GB" if ns.quick else "20GB"),
        scale_repeats=ns.scale_repeats or 1,
        scale_curl=not ns.no_scale_curl,
    )


def _profiles(given: list[str]) -> tuple[str, ...]:
    """The profiles to run, in the fixed order loopback, wan, scale."""
    chosen = set(PROFILES) if "all" in given else set(given or ["loopback"])
    return tuple(p for p in PROFILES if p in chosen)
