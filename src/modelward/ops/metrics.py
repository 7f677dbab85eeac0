"""The service's Prometheus metrics: counters and histograms fed from the event bus, gauges
read when Prometheus scrapes.

Each `ServiceMetrics` has its own `CollectorRegistry` (never prometheus_client's global one:
tests build many services in one process). Everything it counts arrives as an event, so no
lower layer imports this module; what is a state rather than a happening (models by state,
queue length, free disk, quarantine) is asked of `MetricsProbes` at scrape time, which the
runtime wires to the one state derivation and the store. Names follow Prometheus
conventions: ``modelward_`` prefix, ``_total`` counters, ``_bytes``, ``_seconds``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from modelward.events import Event, EventBus, EventType

RATE_WINDOW_S = 5.0
"""The current receive rate is the bytes received over this many seconds, divided by it."""

_GENERATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The ``method`` label's values besides ``other``: a client can send any token as a
method, and each would otherwise become a series of its own."""


def _zero() -> int:
    return 0


async def _nothing() -> dict[str, int]:
    return {}


def _no_host(model_id: str, path: str) -> str:
    return "unknown"


@dataclass(slots=True)
class MetricsProbes:
    """What the metrics ask of the running service when scraped (all cheap).

    ``states`` is awaited on the event loop (every catalog model's state from the kept
    facts of the one status derivation); ``queue_length`` runs on it (in memory);
    ``disk_free_bytes``, ``low_space_bytes`` and ``quarantine_bytes`` run in a worker thread
    (they stat files); ``source_host`` names the host a model's file comes from."""

    states: Callable[[], Awaitable[Mapping[str, int]]] = _nothing
    queue_length: Callable[[], int] = _zero
    disk_free_bytes: Callable[[], int] = _zero
    low_space_bytes: Callable[[], int] = _zero
    quarantine_bytes: Callable[[], int] = _zero
    source_host: Callable[[str, str], str] = _no_host


@dataclass(slots=True)
class _Snapshot:
    """The scrape-time values, taken just before rendering."""

    states: Mapping[str, int] = field(default_factory=dict)
    queue_length: int = 0
    receive_rate: float = 0.0
    disk_free: int = 0
    low_space: int = 0
    quarantine: int = 0


class _ScrapeCollector:
    """Yields the gauges of the snapshot the current scrape took."""

    def __init__(self, owner: ServiceMetrics) -> None:
        self.owner = owner

    def collect(self) -> Iterator[Metric]:
        """The scrape-time gauges."""
        snap = self.owner.snapshot
        states = GaugeMetricFamily(
            "modelward_models", "Catalog models by their derived state.", labels=["state"]
        )
        for state, count in sorted(snap.states.items()):
            states.add_metric([state], count)
        yield states
        yield GaugeMetricFamily(
            "modelward_download_queue_length",
            "Download jobs in the queue (queued, running, paused or failed).",
            value=snap.queue_length,
        )
        yield GaugeMetricFamily(
            "modelward_download_receive_rate_bytes_per_second",
            f"Bytes received per second over the last {RATE_WINDOW_S:g} seconds.",
            value=snap.receive_rate,
        )
        yield from self._disk(snap)

    def _disk(self, snap: _Snapshot) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "modelward_disk_free_bytes",
            "Free bytes on the disk that holds the model store.",
            value=snap.disk_free,
        )
        yield GaugeMetricFamily(
            "modelward_disk_low_space_threshold_bytes",
            "Below this many free bytes the store's disk counts as low (low_space_bytes).",
            value=snap.low_space,
        )
        yield GaugeMetricFamily(
            "modelward_quarantine_bytes",
            "Bytes the quarantined (damaged) files take.",
            value=snap.quarantine,
        )


class ServiceMetrics:
    """The service's metrics, in a registry of their own (see the module docstring)."""

    def __init__(self, bus: EventBus | None = None, probes: MetricsProbes | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.probes = probes or MetricsProbes()
        self.snapshot = _Snapshot()
        self._scrape_lock = threading.Lock()
        self._received: deque[tuple[float, int]] = deque()
        self._hosts: dict[tuple[str, str], str] = {}
        self._define_downloads()
        self._define_health()
        self._define_jobs()
        self.registry.register(_ScrapeCollector(self))
        self._unsubscribe = bus.subscribe(self.on_event) if bus is not None else None

    def _define_downloads(self) -> None:
        reg = self.registry
        self.downloads_started = Counter(
            "modelward_downloads_started",
            "Download jobs that resolved their files and began transferring.",
            ["model"],
            registry=reg,
        )
        self.downloads_completed = Counter(
            "modelward_downloads_completed",
            "Download jobs that ended complete and verified.",
            ["model"],
            registry=reg,
        )
        self.downloads_failed = Counter(
            "modelward_downloads_failed",
            "Download jobs that ended failed, by error code.",
            ["model", "code"],
            registry=reg,
        )
        self.received_bytes = Counter(
            "modelward_download_received_bytes",
            "Bytes received from sources (failed attempts included), by source host.",
            ["host"],
            registry=reg,
        )
        self.retries = Counter(
            "modelward_download_retries",
            "Retries of a file transfer, by the error code that caused them.",
            ["cause"],
            registry=reg,
        )
        self.rate_limit_waits = Counter(
            "modelward_download_rate_limit_waits",
            "Waits for the hub's rate limit (its pacing: no retries, no failures).",
            registry=reg,
        )
        self.rate_limit_wait_seconds = Counter(
            "modelward_download_rate_limit_wait_seconds",
            "Seconds of those waits, as the hub announced them.",
            registry=reg,
        )

    def _define_health(self) -> None:
        reg = self.registry
        self.verify_runs = Counter(
            "modelward_verify_runs",
            "Integrity checks saved to the history (structural, scrub or full level).",
            ["level"],
            registry=reg,
        )
        self.verify_issues = Counter(
            "modelward_verify_issues",
            "Issues integrity checks found, by level and kind.",
            ["level", "kind"],
            registry=reg,
        )
        self.repairs = Counter(
            "modelward_repairs", "Repairs that ended, by outcome.", ["outcome"], registry=reg
        )
        self.repair_refetched = Counter(
            "modelward_repair_refetched_bytes",
            "Bytes repairs fetched again to replace damaged data.",
            registry=reg,
        )
        self.degraded = Gauge(
            "modelward_model_performance_degraded",
            "1 while a model's recent generations are degraded against its own baseline.",
            ["model"],
            registry=reg,
        )

    def _define_jobs(self) -> None:
        reg = self.registry
        self.generation = Histogram(
            "modelward_generation_duration_seconds",
            "Generation jobs and how long they held their model, by model and outcome.",
            ["model", "outcome"],
            buckets=_GENERATION_BUCKETS,
            registry=reg,
        )
        self.fallback = Counter(
            "modelward_fallback_decisions",
            "What jobs asking for a model got, by strategy.",
            ["strategy"],
            registry=reg,
        )
        self.mock_outputs = Counter(
            "modelward_mock_outputs", "Labelled mock outputs served to jobs.", registry=reg
        )
        self.request_wait = Histogram(
            "modelward_request_wait_seconds",
            "How long queued generation requests waited, by how they left the queue.",
            ["outcome"],
            buckets=_WAIT_BUCKETS,
            registry=reg,
        )
        self.http_duration = Histogram(
            "modelward_http_request_duration_seconds",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            buckets=_HTTP_BUCKETS,
            registry=reg,
        )

    def close(self) -> None:
        """Stop listening to the bus."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_event(self, event: Event) -> None:
        """Count what ``event`` says happened."""
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(self, event)

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered (the route's path template, not the raw path; an
        unknown method counts as ``other``)."""
        method = method if method in HTTP_METHODS else "other"
        self.http_duration.labels(route, method, str(status)).observe(seconds)

    async def render(self) -> bytes:
        """The text exposition of every metric: in-memory values read here on the event
        loop, the disk's in a worker thread."""
        states = dict(await self.probes.states())
        queue_length = self.probes.queue_length()
        rate = self._receive_rate(time.monotonic())
        return await asyncio.to_thread(self._render, states, queue_length, rate)

    def _render(self, states: dict[str, int], queue_length: int, rate: float) -> bytes:
        probes = self.probes
        with self._scrape_lock:  # one scrape's snapshot at a time
            self.snapshot = _Snapshot(
                states,
                queue_length,
                rate,
                probes.disk_free_bytes(),
                probes.low_space_bytes(),
                probes.quarantine_bytes(),
            )
            return generate_latest(self.registry)

    def _receive_rate(self, now: float) -> float:
        while self._received and self._received[0][0] < now - RATE_WINDOW_S:
            self._received.popleft()
        return sum(n for _t, n in self._received) / RATE_WINDOW_S

    # Event handlers, one per event type (see _handlers below).

    def _download_started(self, event: Event) -> None:
        self.downloads_started.labels(event.model_id or "").inc()

    def _download_state(self, event: Event) -> None:
        # Only the job's end carries elapsed_s; a restart re-announcing a failed entry or a
        # pause of a queued job does not, and must not count again.
        if "elapsed_s" not in event.data:
            return
        model = event.model_id or ""
        status = event.data.get("status")
        if status == "completed":
            self.downloads_completed.labels(model).inc()
        elif status == "failed":
            self.downloads_failed.labels(model, str(event.data.get("code") or "unknown")).inc()

    def _file_bytes(self, event: Event) -> None:
        new = int(event.data.get("new_bytes") or 0)
        if new <= 0:
            return
        key = (event.model_id or "", str(event.data.get("path") or ""))
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = self.probes.source_host(*key)
        self.received_bytes.labels(host).inc(new)
        self._received.append((time.monotonic(), new))
        if len(self._received) > 100_000:  # bounded even if nobody scrapes
            self._receive_rate(time.monotonic())

    def _retry(self, event: Event) -> None:
        if event.data.get("rate_limited"):
            self.rate_limit_waits.inc()
            self.rate_limit_wait_seconds.inc(float(event.data.get("wait_s") or 0))
            return
        self.retries.labels(str(event.data.get("code") or "unknown")).inc()

    def _health_checked(self, event: Event) -> None:
        level = str(event.data.get("level") or "unknown")
        self.verify_runs.labels(level).inc()
        for kind in event.data.get("kinds") or ():
            self.verify_issues.labels(level, str(kind)).inc()

    def _repair_finished(self, event: Event) -> None:
        self.repairs.labels("success" if event.data.get("success") else "failure").inc()
        self.repair_refetched.inc(int(event.data.get("bytes_fetched") or 0))

    def _performance(self, event: Event) -> None:
        degraded = event.data.get("status") == "degraded"
        self.degraded.labels(event.model_id or "").set(1 if degraded else 0)

    def _fallback(self, event: Event) -> None:
        self.fallback.labels(str(event.data.get("strategy") or "unknown")).inc()

    def _generation(self, event: Event) -> None:
        data = event.data
        model = str(data.get("used_model") or data.get("requested_model") or "")
        outcome = str(data.get("outcome") or "unknown")
        self.generation.labels(model, outcome).observe(float(data.get("duration_s") or 0.0))
        if outcome == "mock":
            self.mock_outputs.inc()

    def _request_left(self, event: Event) -> None:
        created = event.data.get("created_at")
        if isinstance(created, int | float):
            outcome = str(event.data.get("state") or "unknown")
            self.request_wait.labels(outcome).observe(max(0.0, event.at - created))

    _handlers: ClassVar[dict[str, Callable[[ServiceMetrics, Event], None]]] = {
        EventType.DOWNLOAD_STARTED: _download_started,
        EventType.DOWNLOAD_STATE: _download_state,
        EventType.FILE_BYTES: _file_bytes,
        EventType.DOWNLOAD_RETRY: _retry,
        EventType.HEALTH_CHECKED: _health_checked,
        EventType.REPAIR_FINISHED: _repair_finished,
        EventType.HEALTH_PERFORMANCE: _performance,
        EventType.FALLBACK_DECIDED: _fallback,
        EventType.GENERATION_FINISHED: _generation,
        EventType.REQUEST_RELEASED: _request_left,
        EventType.REQUEST_EXPIRED: _request_left,
        EventType.REQUEST_CANCELLED: _request_left,
    }
