"""huggingface_hub's ``hf_hub_download`` of one file in its own process (the repair's peer).

``python -m bench.hf_file --endpoint URL --cache-dir DIR --repo ID --file PATH`` prints one
JSON line: the local path, and the wall and CPU seconds of the call alone (without the
interpreter's start and imports, so that it compares with modelward's in-process calls).
The caller sets ``HF_HUB_DISABLE_XET=1`` and ``HF_HUB_DISABLE_TELEMETRY=1``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from huggingface_hub import hf_hub_download


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Download one file into the given cache and report how long the call took."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--file", required=True)
    args = p.parse_args()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    path = hf_hub_download(args.repo, args.file, endpoint=args.endpoint, cache_dir=args.cache_dir)
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    print(json.dumps({"path": path, "seconds": seconds, "cpu_s": cpu}), flush=True)


if __name__ == "__main__":
    main()
