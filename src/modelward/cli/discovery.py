"""How CLI commands find the running service: ``MODELWARD_HOME/service.json``.

``modelward serve`` writes ``{"url": ..., "pid": ...}`` there (atomically) once it listens
and removes it when it stops. A file whose process is gone, or whose URL refuses the
connection, means no service is running.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import ServiceNotRunningError

SERVICE_FILE = "service.json"
NOT_RUNNING = "no modelward service is running (start one with 'modelward serve')"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Where a running service listens, and its process."""

    url: str
    pid: int


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


def write_service_info(home: Path, url: str) -> ServiceInfo:
    """Announce this process's service at ``url``; readers never see a half-written file."""
    info = ServiceInfo(url=url, pid=os.getpid())
    home.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".service-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"url": info.url, "pid": info.pid}, fh)
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


def find_service(home: Path) -> ServiceInfo:
    """The running service using ``home``; ServiceNotRunningError when there is none."""
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
        hint=f"{reason}. Run 'modelward serve' (same MODELWARD_HOME) and try again.",
    )


def _read(path: Path) -> ServiceInfo:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    url, pid = data.get("url"), data.get("pid")
    if not isinstance(url, str) or not isinstance(pid, int):
        raise ValueError("expected {'url': str, 'pid': int}")
    return ServiceInfo(url=url, pid=pid)


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
