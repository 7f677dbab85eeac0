"""Starting the on-demand service, and starting it early.

A ``pull`` with no service running needs one, and both processes spend most of their
first second importing: the service its web stack, the command its client and schemas.
Spawning the service before the command's own imports lets the two overlap on a machine
with more than one core, instead of paying for one after the other. Only what a spawn needs
is imported here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import filelock

from modelward.cli.discovery import find_service
from modelward.errors import ServiceNotRunningError, StoreLockedError

LOG_FILE = "service.log"


def log_file(home: Path) -> Path:
    """Where a service started on demand writes its output."""
    return home / LOG_FILE


@dataclass
class EarlyStart:
    """A service spawned ahead of need; the start lock stays held until it answers."""

    proc: subprocess.Popen[bytes]
    lock: filelock.BaseFileLock

    def release(self) -> None:
        """Let other commands start or use the service."""
        self.lock.release()


def spawn_early(
    home: Path, serve_args: Sequence[str], env: Mapping[str, str] | None
) -> EarlyStart | None:
    """Spawn the service for ``home`` now, unless one runs or another command is starting
    one (then the usual path finds or waits for it)."""
    with contextlib.suppress(ServiceNotRunningError):
        find_service(home)
        return None
    home.mkdir(parents=True, exist_ok=True)
    lock = start_lock_file(home)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return None
    with contextlib.suppress(ServiceNotRunningError):
        find_service(home)  # one started and let go of the lock since the first look
        lock.release()
        return None
    return EarlyStart(spawn(home, serve_args, env), lock)


def serve_args(
    catalog: list[Path] | None, cache_dir: Path | None, endpoint: str | None = None
) -> list[str]:
    """The command's own options, for a service it starts (the environment goes too), as
    ``--option value`` pairs."""
    args = [arg for path in catalog or () for arg in ("--catalog", str(path))]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    if endpoint is not None:
        args += ["--endpoint", endpoint]
    return args


def serve_env(max_retries: int | None, connections: int | None) -> dict[str, str]:
    """The pull's options for a service it starts."""
    env = {}
    if max_retries is not None:
        env["MODELWARD_MAX_RETRIES"] = str(max_retries)
    if connections is not None:
        env["MODELWARD_CONNECTIONS"] = str(connections)
    return env


def start_lock_file(home: Path) -> filelock.BaseFileLock:
    """The lock two commands take so that starting at once starts one service."""
    return filelock.FileLock(home / ".service-start.lock")


@contextlib.contextmanager
def start_lock(home: Path, timeout_s: float) -> Iterator[None]:
    """Hold the start lock; StoreLockedError after ``timeout_s`` of waiting for it."""
    lock = start_lock_file(home)
    try:
        lock.acquire(timeout=timeout_s)
    except filelock.Timeout:
        raise StoreLockedError(
            f"another modelward command has been starting the service for {home} for "
            f"{timeout_s:.0f} s",
            hint=f"Wait for it and run the command again; {log_file(home)} says what the "
            "service does.",
        ) from None
    try:
        yield
    finally:
        lock.release()


def spawn(
    home: Path, serve_args: Sequence[str], env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    """``modelward serve --on-demand`` for ``home``, detached, output to its log."""
    command = [sys.executable, "-m", "modelward", "serve", "--port", "0", "--on-demand"]
    with log_file(home).open("ab") as log:
        return subprocess.Popen(
            [*command, *serve_args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in this shell must not reach it
            env={**os.environ, "MODELWARD_HOME": str(home), **(env or {})},
        )
