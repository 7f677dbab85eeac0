"""huggingface_hub's ``snapshot_download`` in its own process, so it can be timed and killed.

``python -m bench.hf_snapshot --endpoint URL --cache-dir DIR``; the caller sets
``HF_HUB_DISABLE_XET=1`` and ``HF_HUB_DISABLE_TELEMETRY=1``.
"""

from __future__ import annotations

import argparse

from huggingface_hub import snapshot_download

from bench.config import REPO_ID


def main() -> None:
    """Download the whole repo into a fresh cache."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--cache-dir", required=True)
    args = p.parse_args()
    path = snapshot_download(REPO_ID, endpoint=args.endpoint, cache_dir=args.cache_dir)
    print(path, flush=True)


if __name__ == "__main__":
    main()
