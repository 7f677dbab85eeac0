"""The local hub in its own process: ``python -m bench.hub_server --root DIR --scale 2.2GB``.

Serves only the benchmark's repo (materialising the other Wan2.2 repos would cost minutes
and disk) and prints one JSON line when ready: the URL and the repo's files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.config import REPO_ID
from modelward.devhub import DevHub, serve


def _ready(hub: DevHub) -> None:
    manifest = hub.manifest(REPO_ID)
    files = [{"path": f.path, "size": f.size, "is_lfs": f.is_lfs} for f in manifest.files]
    info = {"url": hub.url, "commit": manifest.commit, "files": files}
    print(json.dumps(info), flush=True)


def main() -> None:
    """Serve until SIGTERM."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--scale", required=True)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    serve(port=args.port, root=args.root, scale=args.scale, repos=[REPO_ID], on_ready=_ready)


if __name__ == "__main__":
    main()
