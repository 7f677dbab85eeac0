"""How CLI commands find the running service: ``MODELWARD_HOME/service.json``.

``modelward serve`` writes ``{"url": ..., "pid": ..., "home": ..., "on_demand": ...}`` there
(atomically) once it listens and removes it when it stops. A file whose process is gone, or
whose URL refuses the connection, means no service is running.

For its whole life a service also holds an exclusive lock on ``MODELWARD_HOME/service.lock``
(the system drops it when the process ends, however it ends): a second service for the same
home cannot take it and is refused, however close together the two start.

``home`` is the MODELWARD_HOME the service uses. It differs from the folder holding the file
only for a service registered in another home: ``modelward demo`` keeps its own home but
also registers in the default one, so a plain ``modelward status`` finds it; the CLI then
reads the API token from the service's home.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import filelock

from modelward.errors import ServiceAlreadyRunningError, ServiceNotRunningError

SERVICE_FILE = "service.json"
LOCK_FILE = "service.lock"
TIMEOUT_S = 30.0
"""How long a command waits for the service's answer (here, so that finding no service
imports no HTTP client)."""
NOT_RUNNING = "no modelward service is running (start one with 'modelward serve')"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Where a running service listens, its process, and the MODELWARD_HOME it uses."""

    url: str
    pid: int
    home: Path | None = None
    """None in files older services wrote: the home holding the file."""
    on_demand: bool = False
    """Started by a CLI command; it stops by itself once idle."""

    def served_home(self, holder: Path) -> Path:
        """The MODELWARD_HOME the service uses (``holder`` holds the discovery file)."""
        return self.home or holder

    def token_file(self, holder: Path) -> Path:
        """Where the service keeps its API token (``holder`` holds the discovery file)."""
        return self.served_home(holder) / "api-token"


def service_file(home: Path) -> Path:
    """The discovery file of the service using ``home``."""
    return home / SERVICE_FILE


def client_url(host: str, port: int) -> str:
    """A URL a local client can connect to for a server bound to ``host``."""
    if host in ("", "0.0.0.0"):  # a wildcard bind is reached on loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def write_service_info(
    home: Path, url: str, *, serves: Path | None = None, on_demand: bool = False
) -> ServiceInfo:
    """Announce this process's service at ``url`` (using ``serves``, default ``home``);
    readers never see a half-written file."""
    info = ServiceInfo(url=url, pid=os.getpid(), home=serves or home, on_demand=on_demand)
    home.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".service-", suffix=".json")
    record = {"url": info.url, "pid": info.pid, "home": str(info.home), "on_demand": on_demand}
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(tmp, service_file(home))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return info


def remove_service_info(home: Path, info: ServiceInfo) -> None:
    """Withdraw the announcement, unless another service has replaced it meanwhile."""
    path = service_file(home)
    try:
        if _read(path) == info:
            path.unlink()
    except (OSError, ValueError):
        pass


def hold_service_lock(home: Path) -> filelock.BaseFileLock:
    """Take the lock one service of ``home`` holds for its whole life (release it when the
    service ends); ServiceAlreadyRunningError, naming it, when another service holds it."""
    home.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(home / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise already_running(home) from None
    return lock


def service_lock_held(home: Path) -> bool:
    """Whether a service of ``home`` runs or is starting (it holds the lock)."""
    if not (home / LOCK_FILE).exists():
        return False
    lock = filelock.FileLock(home / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return True
    lock.release()
    return False


def already_running(home: Path) -> ServiceAlreadyRunningError:
    """The refusal of a second service for ``home``, naming the one that runs."""
    try:
        info = _read(service_file(home))
        where = f"at {info.url} (pid {info.pid})"
    except (OSError, ValueError):  # it holds the lock but has not registered yet
        where = "(it is starting; its address appears in service.json)"
    return ServiceAlreadyRunningError(f"a modelward service already runs for {home} {where}")


def find_service(home: Path) -> ServiceInfo:
    """The running service registered in ``home``; ServiceNotRunningError when none is."""
    path = service_file(home)
    try:
        info = _read(path)
    except FileNotFoundError:
        raise not_running(f"There is no {path}") from None
    except (OSError, ValueError) as exc:
        raise not_running(f"{path} is unreadable ({exc})") from None
    if not _alive(info.pid):
        raise not_running(f"the service that wrote {path} (pid {info.pid}) has stopped")
    return info


def not_running(reason: str) -> ServiceNotRunningError:
    """The error every service command gives when no service answers."""
    return ServiceNotRunningError(
        NOT_RUNNING,
        hint=f"{reason}. A command that starts work (pull, repair, update apply, request "
        "run) starts one in the background; 'modelward serve' runs one in the foreground.",
    )


def _read(path: Path) -> ServiceInfo:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    url, pid, home = data.get("url"), data.get("pid"), data.get("home")
    if not isinstance(url, str) or not isinstance(pid, int):
        raise ValueError("expected {'url': str, 'pid': int}")
    if home is not None and not isinstance(home, str):
        raise ValueError("'home' must be a path")
    on_demand = data.get("on_demand") is True
    return ServiceInfo(url, pid, Path(home) if home else None, on_demand)


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists."""
    return _alive(pid)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
