"""Run a hub in the foreground until Ctrl-C: what ``modelward hub serve`` calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from modelward.devhub.faults import FaultPlan
from modelward.devhub.manners import Manners
from modelward.devhub.server import DevHub
from modelward.devhub.shapes import WAN_REPOS, RepoShape
from modelward.errors import ConfigError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def load_fault_plan(path: Path) -> FaultPlan:
    """Read a fault plan from a JSON file (``{"faults": [...]}`` or a bare list)."""
    try:
        plan: FaultPlan = FaultPlan.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"cannot use the fault plan {path}: {exc}",
            hint='Give a JSON file such as {"faults": [{"kind": "status", "status": 503}]}.',
        ) from None
    return plan


async def serve_async(
    hub: DevHub, host: str, port: int, on_ready: Callable[[DevHub], None] | None = None
) -> None:
    """Start ``hub`` and serve until cancelled or sent SIGINT or SIGTERM."""
    await hub.start(host, port)  # a taken port is a PortInUseError
    done = asyncio.Event()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # Only possible in the main thread. Installed for SIGINT too: a shell starts a
            # background job (`hub serve &` in a script) with SIGINT ignored, and Python
            # keeps it so; Ctrl-C and `kill -INT` must still stop the hub cleanly.
            asyncio.get_running_loop().add_signal_handler(sig, done.set)
    try:
        if on_ready is not None:
            on_ready(hub)
        await done.wait()
    finally:
        await hub.stop()


def _print_ready(hub: DevHub) -> None:
    print(f"modelward devhub serving at {hub.url}", flush=True)
    if hub.ca_path is not None:
        print(f"  CDN at {hub.cdn_url}; trust the CA with SSL_CERT_FILE={hub.ca_path}", flush=True)
    for repo_id in sorted(hub.registry.repos):
        manifest = hub.manifest(repo_id)
        print(f"  {repo_id}  {manifest.commit[:12]}  {manifest.total_size:,} bytes", flush=True)


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    root: Path | None = None,
    scale: int | str = "tiny",
    seed: int = 0,
    gated: Mapping[str, str] | None = None,
    faults_file: Path | None = None,
    repos: Iterable[RepoShape | str] = WAN_REPOS,
    on_ready: Callable[[DevHub], None] | None = _print_ready,
    manners: Manners | None = None,
) -> None:
    """Serve synthetic repos at ``host:port`` until Ctrl-C, printing the URL when ready."""
    hub = DevHub(root=root, scale=scale, repos=repos, gated=gated, seed=seed, manners=manners)
    if faults_file is not None:
        hub.set_faults(load_fault_plan(faults_file))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_async(hub, host, port, on_ready))
