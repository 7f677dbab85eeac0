"""The local hub as a child process, steered over its ``/_devhub`` control API (faults, log)
and, for ``bench.hub_server``, its control pipe (per-run counts, a fresh rate-limit window)."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.config import REPO_ID
from bench.hubstats import HubStats
from bench.procs import Registry, stop


@dataclass(frozen=True)
class RepoFile:
    """One file of the benchmark repo."""

    path: str
    size: int
    is_lfs: bool
    local: str = ""
    """Where the hub keeps its bytes (for the hash-cost measurement)."""


@dataclass(frozen=True)
class HubSettings:
    """How ``bench.hub_server`` is started: the repo's layout and the real Hub's manners."""

    scale: str
    shape: str = "wan"
    tls: bool = False
    rtt_ms: float = 0.0
    cdn_url_ttl_s: float = 0.0
    rate_limit: int = 0
    rate_window_s: float = 60.0

    def args(self) -> list[str]:
        """The hub_server's command-line options."""
        out = ["--scale", self.scale, "--shape", self.shape]
        out += ["--rtt-ms", f"{self.rtt_ms:g}", "--cdn-url-ttl", f"{self.cdn_url_ttl_s:g}"]
        out += ["--rate-limit", str(self.rate_limit), "--rate-window", f"{self.rate_window_s:g}"]
        return [*out, "--tls"] if self.tls else out


class Hub:
    """A running ``bench.hub_server`` process."""

    def __init__(self, proc: subprocess.Popen[bytes], info: dict[str, Any]) -> None:
        self.proc = proc
        self.url: str = info["url"]
        self.cdn_url: str = info.get("cdn_url") or self.url
        ca = info.get("ca_path")
        self.ca_path: str | None = str(ca) if ca else None
        self.commit: str = info["commit"]
        self.files = tuple(
            RepoFile(f["path"], f["size"], f["is_lfs"], f.get("local", "")) for f in info["files"]
        )
        verify: ssl.SSLContext | bool = True
        if self.ca_path is not None:
            verify = ssl.create_default_context(cafile=self.ca_path)
        self._http = httpx.Client(base_url=self.url, timeout=30, verify=verify)
        self._control_lock = threading.Lock()

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

    def _command(self, line: str) -> dict[str, Any]:
        """One command over the control pipe and its JSON answer."""
        if self.proc.stdin is None or self.proc.stdout is None:
            raise RuntimeError("this hub has no control pipe (start it with control=True)")
        with self._control_lock:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
            answer = read_ready_line(self.proc, 60.0)
        if not answer:
            raise RuntimeError(f"the hub did not answer {line!r} (exit {self.proc.poll()})")
        reply: dict[str, Any] = json.loads(answer)
        return reply

    def reset(self) -> None:
        """Forget the request log and start a fresh rate-limit window (before a run)."""
        self._command("reset")

    def stats(self, settle_s: float = 0.3) -> HubStats:
        """Counts of what the hub saw since ``reset``, once late requests are logged."""
        time.sleep(settle_s)
        return HubStats.from_dict(self._command("stats"))

    def close(self) -> None:
        """Stop the hub process (SIGTERM by pid, then SIGKILL)."""
        self._http.close()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        stop(self.proc)


READY_TIMEOUT_S = 1800.0


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
    registry: Registry,
    python: str,
    root: Path,
    settings: HubSettings,
    env: dict[str, str],
    log: Path,
) -> Hub:
    """Start the hub and wait (up to 30 minutes: it may materialise 20 GB) for its ready line."""
    cmd = [python, "-m", "bench.hub_server", "--root", str(root), *settings.args(), "--control"]
    return start_hub_command(registry, cmd, env, log, control=True)


def start_hub_command(
    registry: Registry, cmd: list[str], env: dict[str, str], log: Path, control: bool = False
) -> Hub:
    """Run a hub command that prints one JSON ready line, and wait for that line.

    ``control``: the hub reads commands on stdin (``bench.hub_server``); otherwise it gets
    no stdin at all.
    """
    stdin = subprocess.PIPE if control else subprocess.DEVNULL
    with log.open("ab") as err:
        proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=err)
    registry.track(proc)
    line = read_ready_line(proc, READY_TIMEOUT_S)
    if not line:
        stop(proc)
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"local hub failed to start (exit {proc.returncode}):\n{tail}")
    return Hub(proc, json.loads(line))
