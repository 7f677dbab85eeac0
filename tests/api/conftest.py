"""A real service (uvicorn in a thread) on the test's store, against the local hub."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from modelward.api import create_app
from modelward.api.stream import StreamTiming
from modelward.devhub import DevHub
from modelward.runtime import Runtime
from tests.conftest import make_settings

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class LiveService:
    """A running service and a client of it."""

    client: httpx.Client
    app: FastAPI
    hub: DevHub
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        """Shut the service down as a signal would (its runtime closes; the home stays)."""
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(15)
            assert not self.thread.is_alive(), "the service did not stop"

    @property
    def runtime(self) -> Runtime:
        """The runtime the service's lifespan built."""
        runtime: Runtime = self.app.state.runtime
        return runtime

    def wait_for_progress(
        self, model_id: str, ready: Callable[[dict[str, object]], bool], timeout_s: float = 30
    ) -> dict[str, object]:
        """Poll the model's progress until ``ready`` holds for it."""
        deadline = time.monotonic() + timeout_s
        while True:
            progress: dict[str, object] = self.client.get(
                f"/api/v1/models/{model_id}/download"
            ).json()
            if ready(progress):
                return progress
            assert time.monotonic() < deadline, progress
            time.sleep(0.05)


StartService = Callable[..., LiveService]


@pytest.fixture
def start_service(tmp_path: Path, threaded_hub: DevHub) -> Iterator[StartService]:
    """Start the service with settings overrides (and a fast keep-alive for streams)."""
    servers: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(**overrides: object) -> LiveService:
        settings = make_settings(tmp_path, threaded_hub.url, api_token=TOKEN, **overrides)
        app = create_app(
            settings, stream_timing=StreamTiming(progress_interval_s=0.25, keepalive_s=0.5)
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        servers.append((server, thread, client))
        return LiveService(client=client, app=app, hub=threaded_hub, server=server, thread=thread)

    yield start
    for server, thread, client in servers:
        client.close()
        server.should_exit = True
        thread.join(15)
        assert not thread.is_alive(), "the service did not stop"
