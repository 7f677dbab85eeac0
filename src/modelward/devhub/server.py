"""``DevHub``: a local Hugging Face Hub for tests, benchmarks and the demo."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from modelward.devhub.body import BodyOutcome, send_faulty, send_file
from modelward.devhub.control import handle_control
from modelward.devhub.faults import BODY_KINDS, REPLACING_KINDS, Fault, FaultPlan, FaultState
from modelward.devhub.hostile import hostile_response
from modelward.devhub.http11 import (
    BadRequestError,
    Request,
    Response,
    encode_head,
    error_response,
    read_request,
)
from modelward.devhub.log import RequestRecord, new_connections, resolve_count
from modelward.devhub.manifest import RepoManifest
from modelward.devhub.manners import (
    HubTLS,
    Manners,
    RateLimiter,
    UrlSigner,
    policy_name,
    rate_limited,
)
from modelward.devhub.registry import RepoRegistry
from modelward.devhub.routes import HubRoutes
from modelward.devhub.shapes import WAN_REPOS, RepoShape
from modelward.devhub.sizes import parse_size
from modelward.errors import listen_error

logger = logging.getLogger(__name__)

_STATUS_CODES = {404: "EntryNotFound", 401: "RepoNotFound"}


def default_root() -> Path:
    """Where synthetic repos are materialised unless told otherwise."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "modelward" / "devhub"


def _status_response(fault: Fault) -> Response:
    resp = error_response(
        fault.status, f"injected fault: HTTP {fault.status}", _STATUS_CODES.get(fault.status)
    )
    if fault.retry_after_s is not None:
        resp.headers["Retry-After"] = f"{fault.retry_after_s:g}"
    return resp


@dataclasses.dataclass
class _Conn:
    """One client connection: its id, listener ("hub", "cdn", or "" for the shared one)."""

    id: int
    listener: str
    tls_resumed: bool | None = None
    requests: int = 0


class DevHub:
    """Serves synthetic repos over the Hub's HTTP protocol, with faults and a request log."""

    def __init__(
        self,
        root: Path | None = None,
        scale: int | str = "tiny",
        repos: Iterable[RepoShape | str] = WAN_REPOS,
        gated: Mapping[str, str] | None = None,
        seed: int = 0,
        cdn_host: str | None = None,
        manners: Manners | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.registry = RepoRegistry(self.root, parse_size(scale), seed, repos, gated or {})
        self._cdn_host = cdn_host
        self._faults = FaultState()
        self._log: list[RequestRecord] = []
        self._server: asyncio.Server | None = None
        self._routes: HubRoutes | None = None
        self._stopping = asyncio.Event()
        self._conns: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._conn_ids = itertools.count(1)
        self.host = "127.0.0.1"
        self.port = 0
        self.manners = manners or Manners()
        self._tls: HubTLS | None = None
        self._cdn_server: asyncio.Server | None = None
        self.cdn_host, self.cdn_port = "", 0
        self._limiter: RateLimiter | None = None

    @property
    def url(self) -> str:
        """Base URL of the running hub, e.g. ``http://127.0.0.1:43121``."""
        return f"{self._scheme}://{self.host}:{self.port}"

    @property
    def cdn_url(self) -> str:
        """Base URL that LFS redirects point at (its own listener when HTTPS is on)."""
        return f"{self._scheme}://{self.cdn_host}:{self.cdn_port}"

    @property
    def ca_path(self) -> Path | None:
        """The CA bundle clients must trust (``SSL_CERT_FILE``); None on plain HTTP."""
        return self._tls.ca_path if self._tls is not None else None

    @property
    def _scheme(self) -> str:
        return "https" if self.manners.tls else "http"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Materialise the repos (once per root/scale/seed) and start listening."""
        await asyncio.to_thread(self.registry.load)
        self._stopping = asyncio.Event()
        # A different host name than the hub's, like cdn-lfs.hf.co: clients must not send the
        # hub's token there, and huggingface_hub stops following redirects at it.
        self.cdn_host = self._cdn_host or ("localhost" if host == "127.0.0.1" else host)
        m = self.manners
        if m.tls:
            self._tls = await asyncio.to_thread(HubTLS, [host, self.cdn_host])
        self._server = await self._listen(host, port, "hub" if m.tls else "")
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        self.cdn_port = self.port
        if m.tls:  # the CDN as its own origin: clients open separate connections to it
            self._cdn_server = await self._listen(host, 0, "cdn")
            self.cdn_port = self._cdn_server.sockets[0].getsockname()[1]
        signer = UrlSigner(m.cdn_url_ttl_s) if m.cdn_url_ttl_s is not None else None
        self._limiter = RateLimiter(m.rate_limit, m.rate_window_s) if m.rate_limit else None
        self._routes = HubRoutes(self.registry, self.cdn_url, signer)
        logger.info("devhub serving %s at %s", sorted(self.registry.repos), self.url)

    async def _listen(self, host: str, port: int, listener: str) -> asyncio.Server:
        callback = functools.partial(self._on_connection, listener=listener)
        try:
            return await asyncio.start_server(
                callback, host, port, limit=64 * 1024, ssl=self._tls and self._tls.context
            )
        except OSError as exc:
            raise listen_error(host, port, exc) from None

    async def stop(self) -> None:
        """Stop listening and end every open connection (stalled ones too)."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        if self._cdn_server is not None:
            self._cdn_server.close()
        # Aborting the transports ends each connection task at its next read or write.
        for writer in list(self._conns.values()):
            writer.transport.abort()
        if self._conns:
            _, late = await asyncio.wait(list(self._conns), timeout=5)
            for task in late:
                task.cancel()
        for server in (self._server, self._cdn_server):
            if server is not None:
                await server.wait_closed()
        self._server = self._cdn_server = None
        if self._tls is not None:
            self._tls.remove()
            self._tls = None

    async def __aenter__(self) -> DevHub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def manifest(self, repo_id: str, revision: str = "main") -> RepoManifest:
        """The manifest of ``repo_id`` at ``revision`` (branch or commit)."""
        return self.registry.manifest(repo_id, revision)

    def bump_commit(self, repo_id: str) -> str:
        """Make a new commit on ``main`` of ``repo_id``; return its sha."""
        return self.registry.bump_commit(repo_id)

    def set_faults(self, plan: FaultPlan | Iterable[Fault]) -> None:
        """Replace the active fault plan (counts start afresh)."""
        if not isinstance(plan, FaultPlan):
            plan = FaultPlan(tuple(plan))
        self._faults = FaultState.start(plan)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._faults = FaultState()

    def describe_faults(self) -> list[dict[str, Any]]:
        """Active faults with their remaining counts."""
        return self._faults.describe()

    @property
    def request_log(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first (``/_devhub`` calls are not logged)."""
        return list(self._log)

    def clear_log(self) -> None:
        """Forget all logged requests, including ones still being answered."""
        self._log = []

    def restart_rate_window(self) -> None:
        """Give back the whole rate-limit allowance now (a fresh window for every caller)."""
        m = self.manners
        self._limiter = RateLimiter(m.rate_limit, m.rate_window_s) if m.rate_limit else None

    def resolve_count(self) -> int:
        """How many ``resolve`` requests the log holds."""
        return resolve_count(self._log)

    def new_connections(self, host: str | None = None) -> int:
        """Connections opened by logged requests, to ``host`` ("hub"/"cdn") or to both."""
        return new_connections(self._log, host)

    @contextlib.contextmanager
    def running_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[DevHub]:
        """Run the hub on its own event loop in a daemon thread for the ``with`` block."""
        runner = _ThreadRunner(self, host, port)
        runner.start()
        try:
            yield self
        finally:
            runner.stop()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener: str
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns[task] = writer
        conn = _Conn(next(self._conn_ids), listener)
        try:
            if not await self._handshake(writer, conn):
                return
            while not self._stopping.is_set():
                try:
                    req = await read_request(reader, writer)
                except BadRequestError as exc:
                    await self._send(writer, None, error_response(400, str(exc)), conn, [])
                    break
                if req is None or not await self._exchange(req, writer, conn):
                    break
        except (OSError, asyncio.IncompleteReadError):  # resets and failed TLS alike
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._conns.pop(task, None)

    async def _handshake(self, writer: asyncio.StreamWriter, conn: _Conn) -> bool:
        """Charge the new connection's round trips (TCP, and TLS when on) before its first read.

        The TLS handshake itself is done by asyncio before this runs: delaying it would need
        ``StreamWriter.start_tls``, which loses a ClientHello already buffered. The client
        waits the same time before its first byte either way.
        """
        ssl_object = writer.get_extra_info("ssl_object")
        if ssl_object is not None:
            conn.tls_resumed = bool(ssl_object.session_reused)
        if self.manners.rtt_s > 0:
            await asyncio.sleep(self.manners.rtt_s * (2 if ssl_object is not None else 1))
        return not self._stopping.is_set()

    def _limit(self, req: Request) -> tuple[Response | None, dict[str, str]]:
        """The 429 past the rate limit (or None) and the headers announcing the limit."""
        name = policy_name(req.path)
        if self._limiter is None or name is None:
            return None, {}
        allowed, headers = self._limiter.take(name)
        return (None if allowed else rate_limited(headers)), headers

    async def _exchange(self, req: Request, writer: asyncio.StreamWriter, conn: _Conn) -> bool:
        """Answer one request; False when the connection must close afterwards."""
        fired: list[Fault] = []
        if req.path.startswith("/_devhub/"):
            resp = await handle_control(self, req)
        else:
            limited, limit_headers = self._limit(req)
            resp, fired = (limited, []) if limited is not None else self._answer(req)
            resp.headers.update(limit_headers)
        ok = await self._send(writer, req, resp, conn, fired)
        return ok and req.keep_alive

    def _answer(self, req: Request) -> tuple[Response, list[Fault]]:
        """The routed response, or a fault's in its place, and the faults that fired."""
        assert self._routes is not None
        resp = self._routes.handle(req)
        names = (req.path, resp.label) if resp.label else (req.path,)
        state = self._faults
        fired = state.take(req.method, names, REPLACING_KINDS)
        if fired:
            resp = self._replacement(fired[0])
        elif req.method == "GET" and resp.file is not None and resp.status in (200, 206):
            span = (resp.file.offset, resp.file.length)
            fired = state.take(req.method, names, BODY_KINDS, span)
        return resp, fired

    def _replacement(self, fault: Fault) -> Response:
        """The response a ``status`` or ``hostile`` fault puts in place of the real one."""
        if fault.kind == "hostile":
            return hostile_response(fault, self.root / "_hostile")
        return _status_response(fault)

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        req: Request | None,
        resp: Response,
        conn: _Conn,
        fired: list[Fault],
    ) -> bool:
        logged = req is not None and not req.path.startswith("/_devhub/")
        if logged and self.manners.rtt_s > 0:  # the round trip before the first byte arrives
            await asyncio.sleep(self.manners.rtt_s)
        started, t0 = time.time(), time.monotonic()
        # A request that outlives clear_log() (a stalled or throttled body) lands in the old list.
        log = self._log
        keep = req is not None and req.keep_alive
        resp.headers["Content-Length"] = str(resp.body_length)
        resp.headers["Connection"] = "keep-alive" if keep else "close"
        writer.write(encode_head(resp.status, resp.headers))
        outcome = BodyOutcome(0, True)
        if req is not None and req.method != "HEAD":
            outcome = await self._send_body(writer, resp, fired)
        if outcome.connection_ok:
            try:
                await writer.drain()
            except (ConnectionError, OSError):
                # The client had every byte and closed (over TLS the close can land while a
                # capped body waits out its rate): the request is still logged.
                outcome = BodyOutcome(outcome.bytes_sent, False)
        if req is not None and logged:
            conn.requests += 1
            log.append(
                RequestRecord(
                    req.method,
                    req.path,
                    dict(req.query),
                    req.headers.get("range"),
                    resp.status,
                    outcome.bytes_sent,
                    started,
                    time.monotonic() - t0,
                    conn.id,
                    tuple(f.kind for f in fired),
                    dict(req.headers),
                    conn.requests == 1,
                    conn.listener or ("cdn" if req.path.startswith("/cdn-lfs/") else "hub"),
                    conn.tls_resumed,
                )
            )
        return outcome.connection_ok

    async def _send_body(
        self, writer: asyncio.StreamWriter, resp: Response, fired: list[Fault]
    ) -> BodyOutcome:
        if resp.file is None:
            writer.write(resp.body)
            return BodyOutcome(len(resp.body), True)
        body_faults = [f for f in fired if f.kind in BODY_KINDS]
        if body_faults:
            return await send_faulty(writer, resp.file, body_faults, self._stopping)
        await writer.drain()
        return await send_file(writer, resp.file)


class _ThreadRunner:
    """Runs a DevHub on a private event loop in a daemon thread."""

    def __init__(self, hub: DevHub, host: str, port: int) -> None:
        self.hub, self.host, self.port = hub, host, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="devhub", daemon=True)

    def start(self) -> None:
        """Start the thread and wait until the hub listens."""
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self.hub.start(self.host, self.port), self.loop)
        try:
            future.result()
        except BaseException:  # e.g. a taken port: no thread or loop is left behind
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()
            raise

    def stop(self) -> None:
        """Stop the hub, then the loop, then the thread."""
        asyncio.run_coroutine_threadsafe(self.hub.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()
