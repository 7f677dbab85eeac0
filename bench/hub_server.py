"""The local hub in its own process: ``python -m bench.hub_server --root DIR --scale 2.2GB``.

Serves only the benchmark's repo (materialising the other Wan2.2 repos would cost minutes
and disk) and prints one JSON line when ready: the URLs, the CA to trust (with ``--tls``)
and the repo's files. ``--shape scale`` serves the same repo id laid out as two 8 GB
transformer shards plus 4 GB of the rest at ``--scale 20GB``.

With ``--control`` it then reads commands from stdin, one a line, answering each with one
JSON line on stdout (the benchmark's control pipe; nothing of this is in the product's
``/_devhub`` API):

    reset   forget the request log and start a fresh rate-limit window -> {"ok": true}
    stats   counts of the requests logged since the last reset -> ``HubStats`` as JSON

End of stdin (the driver is gone) then stops the hub.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bench.config import REPO_ID
from bench.hubstats import hub_stats
from modelward.devhub import DevHub, Manners, RepoShape
from modelward.devhub.serve import serve_async
from modelward.devhub.shapes import TI2V_5B

_GB = 10**9
SCALE_SEED = 1  # its own manifests, never mistaken for the Wan layout at the same size


class BenchHub(DevHub):
    """The devhub plus what only the benchmark needs: a control pipe (every client run
    starts with a cleared log and the whole rate-limit allowance, as a user's first pull
    does)."""

    def command(self, line: str) -> dict[str, Any]:
        """Answer one control-pipe command."""
        if line == "reset":
            self.clear_log()
            self.restart_rate_window()
            return {"ok": True}
        if line == "stats":
            return hub_stats(list(self.request_log), self.manners.cdn_url_ttl_s).to_dict()
        return {"error": f"unknown command {line!r}"}


def scale_shape() -> RepoShape:
    """TI2V-5B's repo id with two 8 GB transformer shards: 20.0 GB at ``--scale 20GB``."""
    transformer, text_encoder, vae = TI2V_5B.components
    comps = (
        dataclasses.replace(transformer, real_bytes=16 * _GB, shards=2),
        dataclasses.replace(text_encoder, real_bytes=int(3.4 * _GB)),
        dataclasses.replace(vae, real_bytes=int(0.6 * _GB)),
    )
    return dataclasses.replace(TI2V_5B, components=comps)


def _ready(hub: DevHub) -> None:
    manifest = hub.manifest(REPO_ID)
    files = [
        {"path": f.path, "size": f.size, "is_lfs": f.is_lfs, "local": str(f.local_path)}
        for f in manifest.files
    ]
    info = {
        "url": hub.url,
        "cdn_url": hub.cdn_url,
        "ca_path": str(hub.ca_path) if hub.ca_path is not None else None,
        "commit": manifest.commit,
        "files": files,
    }
    print(json.dumps(info), flush=True)


def _listen_for_commands(hub: BenchHub) -> None:
    """Answer control-pipe commands on the hub's event loop (so no lock is needed)."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    pending = bytearray()

    def on_readable() -> None:
        data = os.read(fd, 4096)
        if not data:  # the driver went away: stop as on SIGTERM
            loop.remove_reader(fd)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        pending.extend(data)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            print(json.dumps(hub.command(line.decode().strip())), flush=True)

    loop.add_reader(fd, on_readable)


def _on_ready_with_control(hub: DevHub) -> None:
    assert isinstance(hub, BenchHub)
    _ready(hub)
    _listen_for_commands(hub)


def _manners(args: argparse.Namespace) -> Manners:
    return Manners(
        tls=args.tls,
        rtt_s=args.rtt_ms / 1000,
        cdn_url_ttl_s=args.cdn_url_ttl or None,
        rate_limit=args.rate_limit or None,
        rate_window_s=args.rate_window,
    )


def main() -> None:
    """Serve until SIGTERM or the end of stdin."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--scale", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--shape", choices=("wan", "scale"), default="wan")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--rtt-ms", type=float, default=0.0)
    p.add_argument("--cdn-url-ttl", type=float, default=0.0, help="seconds (0: never expire)")
    p.add_argument("--rate-limit", type=int, default=0, help="resolve calls per window (0: off)")
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--control", action="store_true", help="answer reset/stats on stdin")
    args = p.parse_args()
    scale = args.shape == "scale"
    hub = BenchHub(
        root=args.root,
        scale=args.scale,
        repos=[scale_shape() if scale else REPO_ID],
        seed=SCALE_SEED if scale else 0,
        manners=_manners(args),
    )
    with contextlib.suppress(KeyboardInterrupt):
        on_ready = _on_ready_with_control if args.control else _ready
        asyncio.run(serve_async(hub, "127.0.0.1", args.port, on_ready))


if __name__ == "__main__":
    main()
