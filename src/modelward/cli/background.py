"""A service started on demand, as Ollama and Docker start theirs, and ``modelward service``.

A command that starts work and finds no service for its MODELWARD_HOME runs
``python -m modelward serve --port 0 --on-demand`` detached (its own session, no stdin,
output to ``MODELWARD_HOME/service.log``), waits until it answers, says so in one line on
stderr, and then is its client. Such a service stops by itself once it has had no work for
``on_demand_idle_s``; ``modelward service stop`` stops any service at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import typer

from modelward.api.schemas import HealthzPublic
from modelward.cli.client import ServiceClient
from modelward.cli.discovery import (
    ServiceInfo,
    find_service,
    is_alive,
    remove_service_info,
    service_file,
    service_lock_held,
)
from modelward.cli.features import print_features_off
from modelward.cli.headstart import EarlyStart, log_file, spawn, start_lock
from modelward.cli.options import JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import console, err_console, fail, print_path
from modelward.errors import (
    ModelwardError,
    ServiceError,
    ServiceNotRunningError,
)
from modelward.settings import Settings

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 30.0


def start_on_demand(
    settings: Settings,
    serve_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    lock_timeout_s: float = START_TIMEOUT_S,
    early: EarlyStart | None = None,
) -> ServiceInfo:
    """Start a background service for ``settings.home`` (unless one just appeared) and
    wait until it answers; ``serve_args`` and ``env`` configure it; ``early``: the one
    spawned already, to wait for. StoreLockedError when another command has been starting
    one for ``lock_timeout_s``."""
    if early is not None:
        try:
            info = _wait_until_answering(settings, early.proc)
        finally:
            early.release()
        return _announce_started(settings, info)
    settings.home.mkdir(parents=True, exist_ok=True)
    # Two commands starting at once start one service: the second waits, then uses it.
    with start_lock(settings.home, lock_timeout_s):
        try:
            return _answering(settings)
        except ServiceNotRunningError:
            pass
        proc = spawn(settings.home, serve_args, env)
        info = _wait_until_answering(settings, proc)
    return _announce_started(settings, info)


def _announce_started(settings: Settings, info: ServiceInfo) -> ServiceInfo:
    err_console.print(
        f"started a background service at {info.url} for {settings.home}; log: "
        f"{log_file(settings.home)}; stop it with 'modelward service stop'",
        highlight=False,
    )
    return info


def _wait_until_answering(settings: Settings, proc: subprocess.Popen[bytes]) -> ServiceInfo:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None and not service_lock_held(settings.home):
            raise ServiceError(
                f"the background service for {settings.home} exited at start "
                f"(code {proc.returncode}): {_last_line(log_file(settings.home))}",
                code="service-start-failed",
                hint=f"See {log_file(settings.home)}; 'modelward serve' runs it in the "
                "foreground to see why.",
            )
        try:
            return _answering(settings)
        except ServiceNotRunningError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()  # ours, or (exited already, refused) a no-op
            raise ServiceError(
                f"the background service for {settings.home} did not answer within "
                f"{START_TIMEOUT_S:.0f} s",
                code="service-start-failed",
                hint=f"See {log_file(settings.home)}, or run 'modelward serve' yourself.",
            )
        time.sleep(0.05)


def _answering(settings: Settings) -> ServiceInfo:
    """The registered service, once it answers /healthz (ServiceNotRunningError before)."""
    info = find_service(settings.home)
    with ServiceClient.discover(settings, timeout_s=5) as client:
        client.healthz()
    return info


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


def stop_service(info: ServiceInfo, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the service's process, once it has said it is that process, and wait until
    it is gone."""
    _confirm(info)
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        raise ServiceError(
            f"not allowed to stop the service at {info.url} (pid {info.pid})",
            code="service-not-ours",
            hint="It runs as another user; stop it there.",
        ) from None
    deadline = time.monotonic() + timeout_s
    while is_alive(info.pid):
        if time.monotonic() > deadline:
            raise ServiceError(
                f"the service at {info.url} (pid {info.pid}) is still stopping after "
                f"{timeout_s:.0f} s",
                code="service-stop-slow",
                hint=f"It pauses its downloads first; wait, or 'kill -9 {info.pid}'.",
            )
        time.sleep(0.1)


def _confirm(info: ServiceInfo) -> None:
    """Make sure process ``info.pid`` is the service at ``info.url``: after a crash, the pid
    in service.json may by now be another program's, which must not get the signal."""
    try:
        with ServiceClient(info.url, None, timeout_s=5) as client:
            health = client.healthz()
    except ServiceNotRunningError:
        raise ServiceNotRunningError(
            f"the service registered at {info.url} (pid {info.pid}) does not answer",
            hint=f"pid {info.pid} was not signalled: after a crash it may be another "
            f"program. If it is a modelward service that hangs, 'kill {info.pid}' stops it.",
        ) from None
    if health.pid == info.pid and (info.home is None or Path(health.home) == info.home):
        return
    raise ServiceError(
        f"the service answering at {info.url} is pid {health.pid} for {health.home}, not "
        f"the pid {info.pid} registered for {info.home}; nothing was stopped",
        code="service-not-ours",
        hint=f"Stop pid {health.pid} from its own MODELWARD_HOME ({health.home}).",
    )


service_app = typer.Typer(
    help="The background service: whether one runs for this MODELWARD_HOME, and stopping it.",
    no_args_is_help=True,
)


@service_app.command("status")
def status(as_json: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Say whether a service runs for this MODELWARD_HOME, where, and whether it is busy."""
    setup_logging(verbose)
    settings = build_settings()
    try:
        info = find_service(settings.home)
        with ServiceClient.discover(settings, timeout_s=5) as client:
            service = client.healthz()
            active = [e.model_id for e in client.queue().data if e.status in _ACTIVE]
    except ServiceNotRunningError as missing:
        if as_json:
            sys.stdout.write(json.dumps({"running": False, "home": str(settings.home)}) + "\n")
        else:
            err_console.print(f"no modelward service runs for {settings.home}.", highlight=False)
            err_console.print(f"[dim]{missing.hint}[/]", highlight=False)
        raise typer.Exit(1) from None
    except ModelwardError as error:
        raise fail(error) from None
    _print_status(settings, info, service, active, as_json)


_ACTIVE = ("queued", "downloading", "verifying")


def _print_status(
    settings: Settings, info: ServiceInfo, service: HealthzPublic, active: list[str], as_json: bool
) -> None:
    home = info.served_home(settings.home)
    version = service.version
    if as_json:
        record = {
            "running": True,
            "url": info.url,
            "pid": info.pid,
            "home": str(home),
            "registered_in": str(service_file(settings.home)),
            "on_demand": info.on_demand,
            "version": version,
            "downloading": active,
            "features_off": service.features_off,
        }
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
        return
    how = "started on demand; stops once idle" if info.on_demand else "runs until stopped"
    console.print(
        f"a modelward service ({version}, {how}) runs at {info.url} (pid {info.pid}) for {home}",
        highlight=False,
    )
    console.print(f"downloading: {', '.join(active) or 'nothing'}", highlight=False)
    print_features_off(service.features_off)
    if info.on_demand:
        print_path("log", log_file(home))


@service_app.command("stop")
def stop(verbose: VerboseOpt = False) -> None:
    """Stop the service of this MODELWARD_HOME (its downloads pause and continue with the
    next service)."""
    setup_logging(verbose)
    settings = build_settings()
    try:
        info = find_service(settings.home)
    except ServiceNotRunningError:
        err_console.print(f"no modelward service runs for {settings.home}; nothing to stop.")
        return
    try:
        stop_service(info)
    except ServiceNotRunningError as gone:
        _forget_stale(settings.home, info, gone)
        return
    except ModelwardError as error:
        raise fail(error) from None
    console.print(f"stopped the service at {info.url} (pid {info.pid}).", highlight=False)


def _forget_stale(holder: Path, info: ServiceInfo, gone: ServiceNotRunningError) -> None:
    """The registered service does not answer: with its lock free it has ended (crashed),
    so its file goes; with the lock held it hangs, and the user decides."""
    if service_lock_held(info.served_home(holder)):
        raise fail(gone)
    remove_service_info(holder, info)
    err_console.print(
        f"no modelward service runs for {holder}: the one registered (pid {info.pid}) has "
        f"ended without withdrawing {service_file(holder)}, which is now removed; "
        f"pid {info.pid} was not signalled. Nothing to stop.",
        highlight=False,
    )
