"""This service as a node of the fleet: its heartbeat, its polling for fleet actions, and
the fleet as read from the shared database.

Every ``node_heartbeat_s`` (and soon after a model's state changes; every second while a
model is on its way, so a pull's progress shows) the node writes its row: address,
version, free disk and each catalog model's state from the one status derivation. Every
second it looks for actions addressed to it that it has not claimed, claims each by
inserting its result row and does the work in a task of its own. An action asked of every
node is taken by the nodes running when it was asked (a node started later, or again, does
not replay old ones); one that names a node is taken by that node within
``NAMED_ACTION_MAX_AGE_S``, also after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modelward._version import __version__
from modelward.availability import ModelAvailabilityManager
from modelward.catalog import Catalog
from modelward.db import Database
from modelward.errors import UnknownNodeError
from modelward.events import Event, EventBus
from modelward.fleet import records
from modelward.fleet.records import (
    ActionKind,
    ActionResult,
    FleetAction,
    ModelOnNode,
    NodeRecord,
)
from modelward.fleet.view import FleetView, summarise, with_pending
from modelward.fleet.work import Workers, perform
from modelward.settings import Settings
from modelward.status import DetailedModelStatus, ModelAvailabilityStatus
from modelward.store.space import free_bytes

logger = logging.getLogger(__name__)

POLL_S = 1.0
"""How often a node looks for fleet actions addressed to it."""
BUSY_BEAT_S = 1.0
"""How often a node beats while one of its models is on its way."""
NAMED_ACTION_MAX_AGE_S = 3600.0
"""How long an action naming a node waits for that node to take it."""
_ON_THE_WAY = frozenset(
    {
        ModelAvailabilityStatus.QUEUED,
        ModelAvailabilityStatus.DOWNLOADING,
        ModelAvailabilityStatus.VERIFYING,
        ModelAvailabilityStatus.REPAIRING,
        ModelAvailabilityStatus.UPDATING,
    }
)
_BEAT_TRIGGERS = ("model.", "download.state", "update.", "repair.finished", "health.checked")


@dataclass(frozen=True, slots=True)
class NodeParts:
    """What a node reads and writes: its settings, the shared database, its catalog, its
    event bus and the parts that do fleet work."""

    settings: Settings
    db: Database
    catalog: Catalog
    bus: EventBus
    availability: ModelAvailabilityManager
    workers: Workers


class FleetNode:
    """This service in the fleet (see the module); ``start()`` with the service."""

    def __init__(self, parts: NodeParts) -> None:
        self.parts = parts
        self.name = parts.settings.node_name
        settings = parts.settings
        self.address: str | None = settings.node_address or _default_address(
            settings.host, settings.port
        )
        """Where others reach this service (the service sets it once its port is bound)."""
        self.started_at = time.time()
        self._since: dict[str, tuple[str, float]] = {}
        self._busy = False
        """A model is on its way here: beat every second, so its progress shows."""
        self._wake = asyncio.Event()
        self._poll = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._work: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []

    # -- reading the fleet and asking it ----------------------------------------------------

    async def view(self) -> FleetView:
        """The fleet now, as the node rows say."""
        found = await asyncio.to_thread(records.load_nodes, self.parts.db)
        return summarise(
            found,
            now=time.time(),
            heartbeat_s=self.parts.settings.node_heartbeat_s,
            this_node=self.name,
            shared=self.parts.db.engine.dialect.name != "sqlite",
        )

    async def ask(
        self, action: ActionKind, model_id: str, targets: Iterable[str] | None, actor: str
    ) -> FleetAction:
        """Store a fleet action for the nodes to do (an unknown model or node is refused)."""
        self.parts.catalog.get(model_id)
        named = tuple(dict.fromkeys(targets)) if targets is not None else None
        if named is not None:
            known = {n.record.name for n in (await self.view()).nodes}
            unknown = [n for n in named if n not in known]
            if unknown:
                raise UnknownNodeError(f"no node of the fleet is named {', '.join(unknown)}")
        asked = FleetAction(
            id=uuid.uuid4().hex,
            action=action,
            model_id=model_id,
            targets=named,
            actor=actor,
            origin=self.name,
            created_at=time.time(),
        )
        await asyncio.to_thread(records.add_action, self.parts.db, asked)
        self._poll.set()  # this node starts its part at once
        return asked

    async def actions(self, limit: int) -> list[FleetAction]:
        """The latest actions with each node's part (``pending`` for those not taken yet)."""
        found = await asyncio.to_thread(records.recent_actions, self.parts.db, limit)
        view = await self.view()
        return [with_pending(a, view) for a in found]

    # -- the node's own tasks -----------------------------------------------------------

    def serving_at(self, port: int) -> None:
        """The service's port once bound (it may have asked for 0): the node's address
        unless MODELWARD_NODE_ADDRESS names one (the next beat, due at once, records it)."""
        if self.parts.settings.node_address is None:
            self.address = _default_address(self.parts.settings.host, port)
            self._wake.set()

    async def start(self) -> None:
        """Register now, then beat and poll in the background."""
        self.started_at = time.time()
        await self._remember_since()
        self._unsubscribe.append(self.parts.bus.subscribe(self._on_event))
        await self._beat_logged()
        self._tasks = [
            asyncio.create_task(self._beating(), name="fleet heartbeat"),
            asyncio.create_task(self._polling(), name="fleet actions"),
        ]

    async def _remember_since(self) -> None:
        """Carry over from this node's last row when it adopted each commit: a restart
        must not make an old commit look like the one adopted last."""
        try:
            found = await asyncio.to_thread(records.load_nodes, self.parts.db)
        except Exception as exc:
            logger.warning("fleet: cannot read node %s's last record: %s", self.name, exc)
            return
        for node in found:
            if node.name == self.name:
                for m in node.models:
                    if m.commit is not None and m.commit_since is not None:
                        self._since[m.model_id] = (m.commit, m.commit_since)

    async def aclose(self) -> None:
        """Stop beating, polling and any fleet work still running."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        running = [*self._tasks, *self._work]
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def beat(self) -> NodeRecord:
        """Write this node's row now; returns what was written."""
        statuses = await self.parts.availability.statuses(hash_unknown=False)
        settings = self.parts.settings
        record = NodeRecord(
            name=self.name,
            address=self.address,
            version=__version__,
            models=tuple(self._entry(s) for s in statuses),
            free_bytes=await asyncio.to_thread(free_bytes, settings.cache_dir),
            started_at=self.started_at,
            last_seen=time.time(),
        )
        await asyncio.to_thread(records.save_node, self.parts.db, record)
        self._busy = any(s.availability_status in _ON_THE_WAY for s in statuses)
        return record

    def _entry(self, status: DetailedModelStatus) -> ModelOnNode:
        commit = status.current_version or None
        since = None
        if commit is not None:
            known = self._since.get(status.model_id)
            if known is None or known[0] != commit:
                known = self._since[status.model_id] = (commit, time.time())
            since = known[1]
        state = status.availability_status
        holds_files = status.present_bytes > 0 or commit is not None
        return ModelOnNode(
            model_id=status.model_id,
            state=state.value,
            commit=commit,
            latest_commit=status.latest_version or None,
            commit_since=since,
            progress=status.download_progress,
            healthy=_healthy(status) if holds_files else None,
            integrity_score=status.integrity_score,
            size_bytes=status.size_bytes,
            error_code=status.error_code,
        )

    def _on_event(self, event: Event) -> None:
        if event.type.startswith(_BEAT_TRIGGERS):
            self._wake.set()

    async def _beating(self) -> None:
        while True:
            every = BUSY_BEAT_S if self._busy else self.parts.settings.node_heartbeat_s
            if await _woken(self._wake, every):
                await asyncio.sleep(0.2)  # a burst of events makes one beat
            self._wake.clear()
            await self._beat_logged()

    async def _beat_logged(self) -> None:
        try:
            await self.beat()
        except Exception as exc:  # the database may be restarting: the next beat tries again
            logger.warning("fleet: cannot record node %s: %s", self.name, exc)

    async def _polling(self) -> None:
        while True:
            try:
                await self._take_actions()
            except Exception as exc:  # as above: the next poll tries again
                logger.warning("fleet: cannot look for actions for node %s: %s", self.name, exc)
            await _woken(self._poll, POLL_S)
            self._poll.clear()

    async def _take_actions(self) -> None:
        since = min(self.started_at, time.time() - NAMED_ACTION_MAX_AGE_S)
        db = self.parts.db
        for action in await asyncio.to_thread(records.unclaimed_actions, db, self.name, since):
            if not self._addressed(action):
                continue
            if not await asyncio.to_thread(records.claim, db, action.id, self.name):
                continue
            task = asyncio.create_task(self._run(action), name=f"fleet {action.action}")
            self._work.add(task)
            task.add_done_callback(self._work.discard)

    def _addressed(self, action: FleetAction) -> bool:
        if action.targets is None:
            return action.created_at >= self.started_at
        return self.name in action.targets

    async def _run(self, action: FleetAction) -> None:
        logger.info("fleet: %s %s asked by %s on %s", action.action, action.model_id,
                    action.actor, action.origin)  # fmt: skip
        try:
            result = await perform(self.parts.workers, action, self.name)
        except asyncio.CancelledError:  # the service stops: its part must not stay "running"
            stopped = ActionResult(self.name, "failed", "the service stopped first", "cancelled")
            await self._finish(action, stopped)
            raise
        await self._finish(action, result)
        self._wake.set()

    async def _finish(self, action: FleetAction, result: ActionResult) -> None:
        try:
            await asyncio.to_thread(records.finish, self.parts.db, action.id, self.name, result)
        except Exception:
            logger.exception("fleet: cannot record the end of action %s", action.id)


def _healthy(status: DetailedModelStatus) -> bool:
    """Whether the model's copy here is sound as far as its checks and state say."""
    if status.corruption_detected or status.damaged_files:
        return False
    return status.availability_status not in (
        ModelAvailabilityStatus.CORRUPTED,
        ModelAvailabilityStatus.FAILED,
    )


def _default_address(host: str, port: int) -> str | None:
    """http://HOST:PORT (the host name for a wildcard bind); None while the port is 0,
    to be bound."""
    if port == 0:
        return None
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def _woken(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for ``event`` at most ``timeout_s``; whether it was set. (Not
    ``asyncio.wait_for``: on Python 3.11 it can swallow a cancel that lands as the event is
    set, and a service stopping then waits for this loop forever.)"""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
