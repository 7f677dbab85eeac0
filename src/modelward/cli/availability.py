"""``modelward suggest``: what a job can use instead of a model, and what to do now."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Annotated, cast

import typer
from rich.markup import escape

from modelward.availability import (
    ErrorContext,
    FallbackStrategy,
    FallbackType,
    GenerationRequirements,
    ModelSuggestion,
    NoAlternativeError,
    QualityDifference,
)
from modelward.availability.requirements import Level, Speed
from modelward.cli.actions import command_for
from modelward.cli.options import CacheDirOpt, CatalogOpt, JsonOpt, build_settings
from modelward.cli.output import console, fail
from modelward.errors import ConfigError, ModelwardError
from modelward.runtime import Runtime
from modelward.settings import Settings


def suggest(
    model: Annotated[str, typer.Argument(help="The model the job asks for.")],
    quality: Annotated[str, typer.Option(help="low, medium or high.")] = "high",
    speed: Annotated[str, typer.Option(help="slow, medium or fast.")] = "medium",
    inputs: Annotated[
        str, typer.Option(help="What the job gives: text, image or text,image.")
    ] = "text",
    resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT the job wants.")] = None,
    vram: Annotated[
        float | None, typer.Option("--vram", help="GB of GPU memory the job has.", min=0.1)
    ] = None,
    catalog: CatalogOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a job for MODEL should do now (MODEL itself when it is here and fits), and the
    best other model that takes the job."""
    try:
        req = GenerationRequirements(
            quality=cast(Level, _choice(quality, ("low", "medium", "high"), "--quality")),
            speed=cast(Speed, _choice(speed, ("slow", "medium", "fast"), "--speed")),
            inputs=frozenset(i.strip() for i in inputs.split(",") if i.strip()),
            resolution=resolution,
            vram_gb=vram,
        )
        settings = build_settings(catalog, cache_dir)
        suggestion, strategy = asyncio.run(_suggest(settings, model, req))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        payload = {
            "suggestion": dataclasses.asdict(suggestion) if suggestion else None,
            "strategy": dataclasses.asdict(strategy),
        }
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    # The answer first: when the requested model is here and fits, it is the answer and
    # any alternative is only another option.
    kind = FallbackType(strategy.strategy_type)
    console.print(f"[bold]now:[/] {escape(strategy.user_message)}", highlight=False)
    if kind is not FallbackType.USE_REQUESTED:
        console.print(f"  {STRATEGY_WORDS[kind]}: {escape(strategy.recommended_action)}")
    command = command_for(strategy.action, strategy.action_model) if strategy.action else None
    if command:
        console.print(f"  command: {command}", markup=False)
    for change in strategy.changes:
        console.print(f"  change: {change}", highlight=False, markup=False)
    for step in strategy.steps:
        console.print(f"  step: {step}", highlight=False, markup=False)
    if suggestion is None:
        console.print(f"[yellow]no other model can take this job instead of {model}[/]")
        return
    label = "other option" if kind is FallbackType.USE_REQUESTED else "alternative"
    quality = QUALITY_WORDS[QualityDifference(suggestion.estimated_quality_difference)]
    console.print(
        f"[bold]{label}:[/] {suggestion.suggested_model} "
        f"(fit {suggestion.compatibility_score:.0%}, {quality}, "
        f"{suggestion.availability_status.value})"
    )
    console.print(f"  {suggestion.reason}", highlight=False, markup=False)
    for need in suggestion.needs:
        console.print(f"  needs: {need}", highlight=False, markup=False)


QUALITY_WORDS = {
    QualityDifference.SIMILAR: "similar quality",
    QualityDifference.SLIGHTLY_LOWER: "slightly lower quality",
    QualityDifference.SIGNIFICANTLY_LOWER: "much lower quality",
}
"""The words for each quality code (the API and --json carry the codes)."""
STRATEGY_WORDS = {
    FallbackType.USE_REQUESTED: "use the requested model",
    FallbackType.REDUCE_REQUIREMENTS: "ask less of the requested model",
    FallbackType.ALTERNATIVE_MODEL: "use another model",
    FallbackType.QUEUE_AND_WAIT: "wait for the requested model",
    FallbackType.DOWNLOAD_AND_RETRY: "fetch a model, then run",
    FallbackType.MOCK_GENERATION: "labelled mock output only",
}
"""The words for each strategy code."""


async def _suggest(
    settings: Settings, model: str, req: GenerationRequirements
) -> tuple[ModelSuggestion | None, FallbackStrategy]:
    async with Runtime(settings) as runtime:
        runtime.catalog.get(model)
        try:
            suggestion: ModelSuggestion | None = await runtime.fallback.suggest_alternative_model(
                model, req
            )
        except NoAlternativeError:
            suggestion = None
        strategy = await runtime.fallback.get_fallback_strategy(model, ErrorContext(req))
        return suggestion, strategy


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{option} must be one of {', '.join(allowed)}, got {value!r}",
            hint=f"e.g. {option} {allowed[-1]}",
        )
    return value
