"""The demo's team mirror: a local SeaweedFS S3 server, a bucket, and what the walkthrough
says about it.

The server runs from the demo's own thread (it dies with it) with its data under the demo's
root, kept between runs like the store, so a second run that pulls nothing still shows what
the first one published. Without the ``weed`` binary (the dev extra) or when it does not
start, the demo goes on without a mirror and says why in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from modelward.devhub.s3 import S3Server, weed_binary
from modelward.errors import MirrorError
from modelward.events import Event, EventBus, EventType
from modelward.units import format_size

BUCKET = "team"
PREFIX = "hf"
PUBLISH_WAIT_S = 120.0
"""How long the demo waits for its auto-publishes before printing the walkthrough."""


@dataclass(frozen=True)
class DemoMirror:
    """The running mirror: its address, endpoint and the AWS variables that reach it."""

    address: str
    endpoint_url: str
    env: dict[str, str]


def spawn_mirror(stack: contextlib.ExitStack, root: Path, console: Console) -> S3Server | None:
    """Start SeaweedFS under ``root`` without waiting, stopped when ``stack`` closes; None
    (and a line saying why) when there is no ``weed`` binary."""
    try:
        weed_binary()
    except MirrorError as missing:
        console.print(f"no team mirror: {missing.message}. {missing.hint}", highlight=False)
        return None
    server = S3Server(root=root)
    stack.callback(server.stop)
    server.spawn()
    return server


def ready_mirror(server: S3Server | None, console: Console) -> DemoMirror | None:
    """Wait for the server, make the bucket and point this process's S3 client (boto3
    reads the AWS variables) at it; None, with a line saying why, if it cannot start."""
    if server is None:
        return None
    from botocore.exceptions import BotoCoreError, ClientError  # boto3 is only needed here

    try:
        server.wait_ready()
        server.ensure_bucket(BUCKET)
    except (MirrorError, BotoCoreError, ClientError) as failed:
        server.stop()
        reason = str(failed).splitlines()[0].rstrip(":")  # the log tail follows: named below
        console.print(f"no team mirror: {reason} (log: {server.log_path})", highlight=False)
        return None
    mirror = DemoMirror(f"s3://{BUCKET}/{PREFIX}", server.endpoint_url, server.env())
    os.environ.update(mirror.env)
    console.print(
        f"team mirror (SeaweedFS S3) at {mirror.address}, endpoint {mirror.endpoint_url}",
        highlight=False,
    )
    return mirror


def mirror_settings(mirror: DemoMirror | None) -> dict[str, object]:
    """The settings that make the demo's service pull through the mirror and publish what
    it fetched from the hub to it."""
    if mirror is None:
        return {}
    return {
        "mirrors": (mirror.address,),
        "s3_endpoint_url": mirror.endpoint_url,
        "mirror_publish": True,
    }


def mirror_walkthrough(mirror: DemoMirror, command: str) -> str:
    """What to try with the mirror in another shell: the variables, then the commands."""
    names = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    exports = " ".join(f"{name}={shlex.quote(mirror.env[name])}" for name in names)
    return (
        f"The team mirror {mirror.address} holds what the demo pulled from the hub; "
        f"in another shell:\n"
        f"  export {exports} MODELWARD_MIRRORS={mirror.address}\n"
        f"  {command} mirror list\n  {command} mirror verify\n  {command} fleet"
    )


class PublishWatch:
    """Follows the service's events during the demo's pull: which models fetched bytes
    (so auto-publish pushes them) and how each publish ended."""

    def __init__(self, bus: EventBus) -> None:
        self._changed = threading.Condition()
        self._expected: set[str] = set()
        self._outcomes: dict[str, Event] = {}
        self._unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        model_id = event.model_id
        if model_id is None:
            return
        with self._changed:
            if event.type == EventType.DOWNLOAD_STATE:
                if event.data.get("status") == "completed" and event.data.get("bytes_fetched"):
                    self._expected.add(model_id)
            elif event.type in (EventType.MIRROR_PUBLISHED, EventType.MIRROR_PUBLISH_FAILED):
                self._outcomes[model_id] = event
            else:
                return
            self._changed.notify_all()

    async def report(self, console: Console, timeout_s: float = PUBLISH_WAIT_S) -> None:
        """Wait for the publishes the pull set off, then print one line for each."""
        outcomes = await asyncio.to_thread(self._wait, timeout_s)
        self._unsubscribe()
        for model_id, event in outcomes.items():
            console.print(_outcome_line(model_id, event), highlight=False)

    def _wait(self, timeout_s: float) -> dict[str, Event | None]:
        with self._changed:
            self._changed.wait_for(lambda: self._expected <= self._outcomes.keys(), timeout_s)
            return {m: self._outcomes.get(m) for m in sorted(self._expected)}


def _outcome_line(model_id: str, event: Event | None) -> str:
    if event is None:
        return f"{model_id}: still publishing to the team mirror"
    data = event.data
    if event.type == EventType.MIRROR_PUBLISH_FAILED:
        return f"{model_id}: publishing to {data.get('mirror')} failed: {data.get('message')}"
    sent = format_size(int(data.get("bytes_sent") or 0))
    skipped = int(data.get("bytes_skipped") or 0)
    held = f", {format_size(skipped)} the mirror held already" if skipped else ""
    files = data.get("files")
    return f"{model_id}: published to {data.get('mirror')} ({files} files, {sent} sent{held})"
