"""Setup step: the peer tools from the OS package manager, and what modelward supports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

APT_PACKAGES = {"aria2c": "aria2", "curl": "curl"}


def missing_tools() -> list[str]:
    """Debian package names of the peer tools not on PATH."""
    return [pkg for exe, pkg in APT_PACKAGES.items() if shutil.which(exe) is None]


def _as_root(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo"):
        return ["sudo", "-n", *cmd]
    raise SystemExit(f"need root (or sudo) to run: {' '.join(cmd)}")


def ensure_tools() -> None:
    """``apt-get update`` once, then ``apt-get install -y aria2 curl``, when any is missing."""
    packages = missing_tools()
    if not packages:
        return
    if shutil.which("apt-get") is None:
        raise SystemExit(f"install {' '.join(packages)} with your package manager, then rerun")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"setup: installing {' '.join(packages)} with apt-get", file=sys.stderr)
    subprocess.run(_as_root(["apt-get", "update", "-qq"]), check=True, env=env, timeout=600)
    install = ["apt-get", "install", "-y", "-qq", *packages]
    subprocess.run(_as_root(install), check=True, env=env, timeout=600)
    still = missing_tools()
    if still:
        raise SystemExit(f"apt-get did not provide: {' '.join(still)}")


def tool_version(exe: str) -> str:
    """First line of ``exe --version`` (for the report)."""
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    lines = (out.stdout or out.stderr).splitlines()
    return lines[0].strip() if lines else "?"


def command_help(cmd: Sequence[str], env: dict[str, str]) -> str:
    """``cmd --help`` as plain wide text ('' when it fails)."""
    wide = {**env, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    try:
        out = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60, env=wide)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout if out.returncode == 0 else ""


def lists_option(help_text: str, option: str) -> bool:
    """Whether ``--help`` output lists exactly ``option`` (``--limit``, not ``--limit-x``)."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text) is not None
