"""``python -m modelward.devhub``: serve synthetic repos until Ctrl-C (no CLI needed)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from modelward.devhub.manners import Manners
from modelward.devhub.serve import serve
from modelward.errors import ConfigError


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m modelward.devhub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", type=Path, default=None, help="where repos are generated")
    parser.add_argument("--scale", default="tiny", help="bytes per repo: tiny, 8MB, 2GB, ...")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gated", action="append", default=[], metavar="ORG/NAME=TOKEN")
    parser.add_argument("--faults", type=Path, default=None, help="fault plan JSON file")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a CA made for the run")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round trip to charge")
    parser.add_argument("--cdn-url-ttl", type=float, default=None, help="signed URL lifetime, s")
    parser.add_argument("--rate-limit", type=int, default=None, help="resolve/api calls/window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window, s")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO)
    gated = dict(item.split("=", 1) for item in args.gated)
    try:
        serve(
            host=args.host,
            port=args.port,
            root=args.root,
            scale=args.scale,
            seed=args.seed,
            gated=gated,
            faults_file=args.faults,
            manners=Manners(
                tls=args.tls,
                rtt_s=args.rtt_ms / 1000,
                cdn_url_ttl_s=args.cdn_url_ttl,
                rate_limit=args.rate_limit,
                rate_window_s=args.rate_window,
            ),
        )
    except ConfigError as exc:  # exit 2 with the message and hint, not a traceback
        parser.error(str(exc))


if __name__ == "__main__":
    main()
