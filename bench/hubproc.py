"""The local hub as a child process, steered over its ``/_devhub`` control API."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.config import REPO_ID
from bench.procs import Registry, stop


@dataclass(frozen=True)
class RepoFile:
    """One file of the benchmark repo."""

    path: str
    size: int
    is_lfs: bool


class Hub:
    """A running ``bench.hub_server`` process."""

    def __init__(self, proc: subprocess.Popen[bytes], info: dict[str, Any]) -> None:
        self.proc = proc
        self.url: str = info["url"]
        self.commit: str = info["commit"]
        self.files = tuple(RepoFile(f["path"], f["size"], f["is_lfs"]) for f in info["files"])
        self._http = httpx.Client(base_url=self.url, timeout=30)

    @property
    def repo_size(self) -> int:
        """Bytes of every file of the repo, as a client must fetch them."""
        return sum(f.size for f in self.files)

    def resolve_url(self, path: str) -> str:
        """The Hub ``resolve`` URL of ``path`` (LFS files redirect to the CDN-like host)."""
        return f"{self.url}/{REPO_ID}/resolve/main/{path}"

    def set_rate(self, bytes_per_s: int) -> None:
        """Cap every response body at ``bytes_per_s`` per connection (0: no cap)."""
        if bytes_per_s <= 0:
            self._http.delete("/_devhub/faults").raise_for_status()
            return
        plan = {"faults": [{"kind": "rate", "rate_bytes_per_s": bytes_per_s}]}
        self._http.post("/_devhub/faults", json=plan).raise_for_status()

    def clear_log(self) -> None:
        """Forget the request log."""
        self._http.delete("/_devhub/log").raise_for_status()

    def file_bytes_sent(self, settle_s: float = 1.0) -> int:
        """Body bytes of file responses (resolve and CDN, 200/206) in the log so far.

        A request is logged when its body ends, so this first waits ``settle_s`` for the
        hub to notice connections a killed client left behind.
        """
        time.sleep(settle_s)
        records = self._http.get("/_devhub/log").raise_for_status().json()
        return sum(
            int(r["bytes_sent"])
            for r in records
            if r["status"] in (200, 206)
            and r["method"] == "GET"
            and ("/resolve/" in r["path"] or r["path"].startswith("/cdn-lfs/"))
        )

    def close(self) -> None:
        """Stop the hub process (SIGTERM by pid, then SIGKILL)."""
        self._http.close()
        stop(self.proc)


READY_TIMEOUT_S = 600.0


def read_ready_line(proc: subprocess.Popen[bytes], timeout_s: float) -> bytes:
    """The hub's first stdout line, or b"" if it exits or stays silent for ``timeout_s``."""
    lines: list[bytes] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0] if lines else b""


def start_hub(
    registry: Registry, python: str, root: Path, scale: str, env: dict[str, str], log: Path
) -> Hub:
    """Start the hub and wait (up to 10 minutes: it may materialise GBs) for its ready line."""
    cmd = [python, "-m", "bench.hub_server", "--root", str(root), "--scale", scale]
    return start_hub_command(registry, cmd, env, log)


def start_hub_command(registry: Registry, cmd: list[str], env: dict[str, str], log: Path) -> Hub:
    """Run a hub command that prints one JSON ready line, and wait for that line."""
    with log.open("ab") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
    registry.track(proc)
    line = read_ready_line(proc, READY_TIMEOUT_S)
    if not line:
        stop(proc)
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"local hub failed to start (exit {proc.returncode}):\n{tail}")
    return Hub(proc, json.loads(line))
