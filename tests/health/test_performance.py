"""Performance health: recent generations against the model's own baseline."""

from __future__ import annotations

from pathlib import Path

from modelward.devhub import DevHub
from modelward.events import Event, EventType
from modelward.health import (
    GenerationMetrics,
    PerformanceStatus,
    PerformanceThresholds,
    assess_performance,
)
from modelward.runtime import Runtime
from modelward.status import model_status
from tests.conftest import TI2V, make_settings

LIMITS = PerformanceThresholds(window=10, min_baseline=5, slowdown=0.5, failure_rate=0.3)


def _runs(seconds: float, n: int, **kw: object) -> list[GenerationMetrics]:
    return [GenerationMetrics(generation_time_s=seconds, **kw) for _ in range(n)]  # type: ignore[arg-type]


def test_too_few_generations_are_learning_not_judged() -> None:
    health = assess_performance("m", _runs(100.0, 12), LIMITS)
    assert health.status is PerformanceStatus.LEARNING and health.performance_score == 1.0
    assert "15" in health.reasons[0]


def test_slow_generations_degrade_and_normal_ones_bring_it_back() -> None:
    baseline = _runs(100.0, 20)
    slow = assess_performance("m", baseline + _runs(190.0, 10), LIMITS)
    assert slow.is_degraded and slow.slowdown == 1.9
    assert slow.recent_generation_time_s == 190.0 and slow.baseline_generation_time_s == 100.0
    assert "1.9x" in slow.reasons[0] and "full health check" in slow.suggestions[0]
    assert slow.performance_score < 0.6

    a_little_slower = assess_performance("m", baseline + _runs(130.0, 10), LIMITS)
    assert a_little_slower.status is PerformanceStatus.HEALTHY  # within the 1.5x threshold

    recovered = assess_performance("m", baseline + _runs(190.0, 10) + _runs(101.0, 10), LIMITS)
    assert recovered.status is PerformanceStatus.HEALTHY and recovered.performance_score > 0.9


def test_a_bigger_job_is_compared_with_jobs_of_its_size() -> None:
    small = _runs(100.0, 10, width=832, height=480, num_frames=81, steps=40)
    large = _runs(400.0, 10, width=1280, height=704, num_frames=121, steps=40)
    history = small + large + _runs(410.0, 5, width=1280, height=704, num_frames=121, steps=40)
    history += _runs(98.0, 5, width=832, height=480, num_frames=81, steps=40)
    health = assess_performance("m", history, LIMITS)
    assert health.status is PerformanceStatus.HEALTHY and health.slowdown is not None
    assert 0.95 < health.slowdown < 1.05


def test_failures_and_bad_outputs_degrade_with_their_own_suggestions() -> None:
    baseline = _runs(100.0, 20)
    failing = baseline + _runs(100.0, 5) + _runs(5.0, 5, success=False, error="CUDA error")
    health = assess_performance("m", failing, LIMITS)
    assert health.is_degraded and health.recent_failure_rate == 0.5
    assert any(s.startswith("Frequent failures") for s in health.suggestions)

    bad = baseline + _runs(100.0, 6) + _runs(100.0, 4, quality_issue=True)
    health = assess_performance("m", bad, LIMITS)
    assert health.is_degraded and any(s.startswith("Quality issues") for s in health.suggestions)
    assert "repair the files it finds damaged" in " ".join(health.suggestions)


async def test_the_monitor_keeps_metrics_across_restarts_and_publishes_changes(
    tmp_path: Path, hub: DevHub
) -> None:
    settings = make_settings(tmp_path, hub.url)
    async with Runtime(settings) as runtime:
        for m in _runs(60.0, 15):
            health = await runtime.health.monitor_model_performance(TI2V, m)
        assert health.status is PerformanceStatus.HEALTHY

    async with Runtime(settings) as runtime:  # a new process: the baseline was kept
        events: list[Event] = []
        runtime.bus.subscribe(events.append)
        for m in _runs(150.0, 10):
            health = await runtime.health.monitor_model_performance(TI2V, m)
        assert health.is_degraded and health.samples == 25
        status = await model_status(runtime.downloader, TI2V, health=runtime.health)
        assert status.performance_score == health.performance_score < 0.5
        perf = [e for e in events if e.type == EventType.HEALTH_PERFORMANCE]
        assert len(perf) == 10 and [e.data["status"] for e in perf].count("degraded") >= 1
        changed = [e for e in perf if e.data["changed"]]
        assert changed[-1].data["status"] == "degraded" and changed[-1].data["suggestions"]
        # Turning degraded checks the model's files at once (here: never downloaded).
        assert TI2V in runtime.health.last_results

        for m in _runs(61.0, 10):
            health = await runtime.health.monitor_model_performance(TI2V, m)
        assert health.status is PerformanceStatus.HEALTHY
        flips = [e.data["status"] for e in events if e.data.get("changed")]
        assert flips[-2:] == ["degraded", "healthy"]


def test_a_workload_never_seen_before_is_not_judged_slow() -> None:
    small = _runs(100.0, 20, width=832, height=480, num_frames=81, steps=40)
    first_large = _runs(400.0, 10, width=1280, height=704, num_frames=121, steps=40)
    health = assess_performance("m", small + first_large, LIMITS)
    assert health.status is PerformanceStatus.HEALTHY and health.slowdown is None
