"""The four clients under test, as command lines against the local hub."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import MODEL_ID, Options
from bench.hubproc import Hub

REPO_ROOT = Path(__file__).resolve().parent.parent
_DROPPED_ENV = ("HF_TOKEN", "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_HUB_OFFLINE")


@dataclass(frozen=True)
class Invocation:
    """One run of one client: its command, environment and where its bytes land."""

    cmd: list[str]
    env: dict[str, str]
    disk_roots: tuple[Path, ...]
    memory: bool = False
    tree: bool = False
    """Follow the processes it starts too (modelward's background service downloads)."""


@dataclass(frozen=True)
class Client:
    """A client under test; ``build`` makes an invocation writing under a fresh run dir."""

    key: str
    label: str
    does: str
    build: Callable[[Path], Invocation]


def base_env(workdir: Path) -> dict[str, str]:
    """The environment of every child: no tokens, no user caches, telemetry and xet off."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_ENV and not k.startswith("MODELWARD_")
    }
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update(
        PYTHONPATH=os.pathsep.join([*paths, str(REPO_ROOT)]),
        HF_HOME=str(workdir / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_ENABLE_HF_TRANSFER="0",
        MODELWARD_HOME=str(workdir / "modelward-home"),
    )
    return env


def trusting(env: dict[str, str], hub: Hub) -> dict[str, str]:
    """``env`` with the hub's CA trusted by httpx, requests and curl (HTTPS profiles)."""
    if hub.ca_path is None:
        return env
    ca = hub.ca_path
    return {**env, "SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca, "CURL_CA_BUNDLE": ca}


def modelward_pull(
    opts: Options, hub: Hub, env: dict[str, str], extra: Sequence[str] = ()
) -> Callable[[Path], Invocation]:
    """``modelward pull ti2v-5b`` into ``run/cache`` with its records in ``run/home``."""

    def build(run: Path) -> Invocation:
        cmd = [*opts.modelward_cmd, "pull", MODEL_ID, "--cache-dir", str(run / "cache")]
        cmd += ["--endpoint", hub.url, *opts.modelward_args, *extra]
        # The service the command starts stops by itself soon if the benchmark cannot.
        child_env = {**env, "MODELWARD_HOME": str(run / "home"), "MODELWARD_ON_DEMAND_IDLE": "120"}
        roots = (run / "cache", run / "home")
        return Invocation(cmd, child_env, roots, memory=True, tree=True)

    return build


def curl_sequential(hub: Hub, env: dict[str, str]) -> Callable[[Path], Invocation]:
    """One ``curl`` process fetching every file in turn (one connection, redirects followed)."""

    def build(run: Path) -> Invocation:
        cmd = ["curl", "--silent", "--show-error", "--fail", "--location", "--create-dirs"]
        if hub.ca_path is not None:
            cmd += ["--cacert", hub.ca_path]
        for f in hub.files:
            cmd += ["--output", str(run / "out" / f.path), hub.resolve_url(f.path)]
        return Invocation(cmd, env, (run / "out",))

    return build


def aria2c_split(hub: Hub, env: dict[str, str]) -> Callable[[Path], Invocation]:
    """``aria2c -x8 -s8`` over an input file listing every resolve URL."""

    def build(run: Path) -> Invocation:
        run.mkdir(parents=True, exist_ok=True)
        listing = run / "aria2-input.txt"
        lines = [f"{hub.resolve_url(f.path)}\n  out={f.path}\n" for f in hub.files]
        listing.write_text("".join(lines))
        cmd = ["aria2c", "-x8", "-s8", "--input-file", str(listing), "--dir", str(run / "out")]
        cmd += [
            "--file-allocation=none",
            "--console-log-level=warn",
            "--summary-interval=0",
            "--download-result=hide",
            "--auto-file-renaming=false",
            "--allow-overwrite=true",
            "--disable-ipv6=true",
        ]
        if hub.ca_path is not None:
            cmd.append(f"--ca-certificate={hub.ca_path}")
        return Invocation(cmd, env, (run / "out",))

    return build


def hf_snapshot(opts: Options, hub: Hub, env: dict[str, str]) -> Callable[[Path], Invocation]:
    """``huggingface_hub.snapshot_download`` (default 8 workers) in a child process."""

    def build(run: Path) -> Invocation:
        cmd = [opts.python, "-m", "bench.hf_snapshot", "--endpoint", hub.url]
        cmd += ["--cache-dir", str(run / "cache")]
        return Invocation(cmd, env, (run / "cache",), memory=True)

    return build


def all_clients(opts: Options, hub: Hub, env: dict[str, str]) -> list[Client]:
    """The four clients, baseline (curl) second so ratios read naturally."""
    return [
        Client(
            "modelward",
            "modelward pull",
            "download + sha256 verify",
            modelward_pull(opts, hub, env),
        ),
        Client("curl", "curl (sequential)", "download only", curl_sequential(hub, env)),
        Client("aria2c", "aria2c -x8 -s8", "download only", aria2c_split(hub, env)),
        Client(
            "hf",
            "huggingface_hub.snapshot_download",
            "download + size check",
            hf_snapshot(opts, hub, env),
        ),
    ]
