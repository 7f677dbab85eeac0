"""``modelward suggest``: what a job can use instead of a model, and what to do now."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Annotated, cast

import typer

from modelward.availability import (
    ErrorContext,
    FallbackStrategy,
    GenerationRequirements,
    ModelSuggestion,
    NoAlternativeError,
)
from modelward.availability.requirements import Level, Speed
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
    """The best alternative to MODEL for a job, and what the job should do right now."""
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
    if suggestion is None:
        console.print(f"[yellow]no other model can serve this job instead of {model}[/]")
    else:
        console.print(
            f"[bold]alternative:[/] {suggestion.suggested_model} "
            f"(fit {suggestion.compatibility_score:.0%}, quality "
            f"{suggestion.estimated_quality_difference.value}, "
            f"{suggestion.availability_status.value})"
        )
        console.print(f"  {suggestion.reason}", highlight=False)
        for need in suggestion.needs:
            console.print(f"  needs: {need}", highlight=False)
    console.print(f"[bold]now:[/] {strategy.strategy_type.value}: {strategy.recommended_action}")
    console.print(f"  {strategy.user_message}", highlight=False)
    for change in strategy.changes:
        console.print(f"  change: {change}", highlight=False)
    for step in strategy.steps:
        console.print(f"  step: {step}", highlight=False)


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
