"""Lower layers say what to do with an action code, never how: no string they return in
recommendations, strategies, steps, upgrades or wait reasons holds a command line or a
route (the API adds the route, the CLI the command). Real situations: a missing model with
the source down, a missing one the source has, a damaged one, a slow one, and no model at
all."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from modelward.actions import Action, Step
from modelward.availability import (
    ErrorCategory,
    ErrorContext,
    FallbackStrategy,
    GenerationRequirements,
    ModelRequestResult,
)
from modelward.devhub import DevHub
from modelward.health import GenerationMetrics
from modelward.runtime import Runtime
from tests.conftest import TI2V, TI2V_REPO, make_settings

T2V = "t2v-a14b"
FORBIDDEN = ("modelward ", "/api/v1")


def _texts(value: object) -> Iterator[str]:
    """Every string inside ``value`` (dataclasses, mappings, sequences), at any depth."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


def _steps(value: object) -> Iterator[Step]:
    if isinstance(value, Step):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _steps(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _steps(item)


def _assert_no_command_lines(*answers: object) -> list[Step]:
    texts = [t for a in answers for t in _texts(a)]
    assert len(texts) > len(answers)  # the walk really reached the words
    offending = [t for t in texts if any(f in t for f in FORBIDDEN)]
    assert offending == []
    return [s for a in answers for s in _steps(a)]


async def _answers(runtime: Runtime, model_id: str, category: ErrorCategory) -> list[object]:
    job = GenerationRequirements(quality="high", speed="medium")
    return [
        await runtime.fallback.get_fallback_strategy(model_id, ErrorContext(job)),
        await runtime.fallback.advise(model_id, job),
        await runtime.fallback.handle_model_request(model_id, job),
        await runtime.fallback.estimate_wait_time(model_id),
        await runtime.recovery.handle_model_unavailable(model_id, ErrorContext(job, category)),
        await runtime.health.get_health_report(),
    ]


async def test_no_model_at_all_and_the_source_down(tmp_path: Path, hub: DevHub) -> None:
    async with Runtime(make_settings(tmp_path, hub.url, max_retries=0)) as runtime:
        await hub.stop()
        answers = await _answers(runtime, T2V, ErrorCategory.MODEL_UNAVAILABLE)
        setup = await runtime.recovery.setup_guidance(TI2V)
    steps = _assert_no_command_lines(*answers, setup)
    assert (Action.DOWNLOAD, T2V) in [(s.action, s.model_id) for s in steps]
    assert Action.DEMO in [s.action for s in setup.steps]


async def test_a_missing_model_the_source_has(runtime: Runtime) -> None:
    answers = await _answers(runtime, TI2V, ErrorCategory.MODEL_UNAVAILABLE)
    _assert_no_command_lines(*answers)
    request = answers[2]
    assert isinstance(request, ModelRequestResult) and request.upgrade is not None
    assert request.upgrade == Step(request.upgrade.text, Action.DOWNLOAD, TI2V)
    await runtime.downloader.wait_for_completion(TI2V)  # recovery started it


async def test_a_damaged_model(runtime: Runtime, hub: DevHub) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    status = await runtime.availability.status(TI2V)
    biggest = max(hub.manifest(TI2V_REPO).files, key=lambda f: f.size).path
    blob = (Path(str(status.local_path)) / biggest).resolve()
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.seek(50)
        fh.write(b"\0" * 8)
    await runtime.health.detect_corruption(TI2V)
    answers = await _answers(runtime, TI2V, ErrorCategory.MODEL_UNAVAILABLE)
    await runtime.health.join_background()  # recovery started a repair
    _assert_no_command_lines(*answers)
    strategy = answers[0]
    assert isinstance(strategy, FallbackStrategy)
    assert (strategy.action, strategy.action_model) == (Action.REPAIR, TI2V)


async def test_a_slow_model(runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    for seconds in [10.0] * 12 + [40.0] * 8:
        await runtime.health.monitor_model_performance(TI2V, GenerationMetrics(seconds, True))
    performance = await runtime.health.performance_health(TI2V)
    answers = await _answers(runtime, TI2V, ErrorCategory.SLOW_GENERATION)
    failing = await runtime.recovery.handle_model_unavailable(
        TI2V, ErrorContext(category=ErrorCategory.FREQUENT_FAILURES)
    )
    steps = _assert_no_command_lines(performance, *answers, failing)
    assert performance.suggestions
    assert (Action.VERIFY_FULL, TI2V) in [(s.action, s.model_id) for s in steps]
