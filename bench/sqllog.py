"""What the nodes asked PostgreSQL, from the statement log ``bench.fleet --sql-log`` copies:
statements per node and second by kind (verb and table), over the pull and the idle window.

``python -m bench.sqllog LOG --nodes 4 --pull 41 --idle-from 53 --idle-to 83``: seconds are
counted from the first statement that names the ``nodes`` table (a node registering); the
benchmark's own reads (the lease timeline's, which count connections) are left out.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import re
from pathlib import Path

_ENTRY = re.compile(r"^(\S+ \S+) UTC \[\d+\] LOG:  (?:statement|execute [^:]*): (.*)$")
_TABLE = re.compile(r"(?:FROM|UPDATE|INTO)\s+\"?(\w+)", re.IGNORECASE)
_NEW_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d ")


def statements(log: Path) -> list[tuple[float, str]]:
    """``(time, statement)`` of every logged statement (continuation lines joined)."""
    out: list[tuple[float, str]] = []
    lines = log.read_text(errors="replace").split("\n")
    i = 0
    while i < len(lines):
        match = _ENTRY.match(lines[i])
        i += 1
        if match is None:
            continue
        text = [match.group(2)]
        while i < len(lines) and not _NEW_ENTRY.match(lines[i]):
            text.append(lines[i].strip())
            i += 1
        when = datetime.datetime.fromisoformat(match.group(1)).timestamp()
        out.append((when, " ".join(" ".join(text).split())))
    return [(t, s) for t, s in out if "pg_stat_activity" not in s]


def kind(statement: str) -> str:
    """``BEGIN``, ``;`` (SQLAlchemy's pre-ping), or the verb and the first table named."""
    verb = statement.split(" ", 1)[0].upper()
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", ";"):
        return verb
    table = _TABLE.search(statement)
    if table is None:
        return statement[:60]
    return f"{verb} {table.group(1)}"


def main() -> None:
    """Print the table of statements per node and second for both windows."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("log", type=Path)
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--pull", type=float, required=True, help="seconds the pull took")
    p.add_argument("--idle-from", type=float, required=True)
    p.add_argument("--idle-to", type=float, required=True)
    args = p.parse_args()
    entries = statements(args.log)
    start = next(t for t, s in entries if " nodes" in s)
    windows = {"pulling": (0.0, args.pull), "idle": (args.idle_from, args.idle_to)}
    for name, (lo, hi) in windows.items():
        counts = collections.Counter(kind(s) for t, s in entries if lo <= t - start <= hi)
        per = (hi - lo) * args.nodes
        print(f"{name} ({hi - lo:g} s), per node and second:")
        for what, count in counts.most_common():
            print(f"  {count / per:7.2f}  {what}")


if __name__ == "__main__":
    main()
