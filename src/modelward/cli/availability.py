"""``modelward suggest``: what a job can use instead of a model, and what to do now."""

from __future__ import annotations

import sys
from typing import Annotated, Literal, cast

import typer
from rich.markup import escape

from modelward.api.schemas import AdvicePublic, NotOfferedPublic, RequirementsIn, SuggestionPublic
from modelward.availability import FallbackType, GenerationRequirements, QualityDifference
from modelward.availability.requirements import Level, Speed
from modelward.cli.actions import command_for, step_line
from modelward.cli.options import CacheDirOpt, CatalogOpt, JsonOpt, VerboseOpt
from modelward.cli.output import console, fail
from modelward.cli.where import ask_service_or_here
from modelward.errors import ConfigError, ModelwardError
from modelward.runtime import Runtime


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
    verbose: VerboseOpt = False,
) -> None:
    """What a job for MODEL should do now (MODEL itself when it is here and fits), every
    other model that takes the job, and those left out with why."""
    try:
        req = GenerationRequirements(
            quality=cast(Level, _choice(quality, ("low", "medium", "high"), "--quality")),
            speed=cast(Speed, _choice(speed, ("slow", "medium", "fast"), "--speed")),
            inputs=frozenset(i.strip() for i in inputs.split(",") if i.strip()),
            resolution=resolution,
            vram_gb=vram,
        )
    except ModelwardError as error:
        raise fail(error) from None
    # The service's answer when one runs (it knows what is downloading); else the same
    # code here, on the same store.
    advice = ask_service_or_here(
        catalog,
        cache_dir,
        verbose,
        lambda client: client.advice(model, _requirements_in(req)),
        lambda rt: advice_here(rt, model, req),
    )
    if as_json:
        sys.stdout.write(advice.model_dump_json(indent=2) + "\n")
        return
    _print_advice(model, advice)


async def advice_here(runtime: Runtime, model: str, req: GenerationRequirements) -> AdvicePublic:
    """The advice computed in this process, in the API's schema (as the service answers)."""
    return AdvicePublic.model_validate(await runtime.fallback.advise(model, req))


def _requirements_in(req: GenerationRequirements) -> RequirementsIn:
    return RequirementsIn(
        quality=req.quality,
        speed=req.speed,
        inputs=sorted(cast(set[Literal["text", "image"]], set(req.inputs))),
        resolution=req.resolution,
        vram_gb=req.vram_gb,
    )


def _print_advice(model: str, advice: AdvicePublic) -> None:
    # The answer first: when the requested model is here and fits, it is the answer and
    # any alternative is only another option.
    strategy = advice.strategy
    kind = strategy.strategy_type
    console.print(f"[bold]now:[/] {escape(strategy.user_message)}", highlight=False)
    if kind is not FallbackType.USE_REQUESTED:
        console.print(f"  {STRATEGY_WORDS[kind]}: {escape(strategy.recommended_action)}")
    command = command_for(strategy.action, strategy.action_model) if strategy.action else None
    if command:
        console.print(f"  command: {command}", markup=False)
    for change in strategy.changes:
        console.print(f"  change: {change}", highlight=False, markup=False)
    for step in strategy.steps:
        line = step_line(step.text, step.action, step.model_id)
        console.print(f"  step: {line}", highlight=False, markup=False)
    if advice.requested.fits is not True:
        console.print(f"  {model}: {advice.requested.reason}", highlight=False, markup=False)
    _print_alternatives(model, kind, advice.alternatives)
    _print_left_out(advice.not_offered)


def _print_alternatives(model: str, kind: FallbackType, offered: list[SuggestionPublic]) -> None:
    if not offered:
        console.print(f"[yellow]no other model can take this job instead of {model}[/]")
        return
    first = "other option" if kind is FallbackType.USE_REQUESTED else "alternative"
    for rank, suggestion in enumerate(offered):
        quality = QUALITY_WORDS[suggestion.estimated_quality_difference]
        console.print(
            f"[bold]{first if rank == 0 else 'also'}:[/] {suggestion.suggested_model} "
            f"(fit {suggestion.compatibility_score:.0%}, {quality}, "
            f"{suggestion.availability_status.value})"
        )
        console.print(f"  {suggestion.reason}", highlight=False, markup=False)
        for need in suggestion.needs:
            console.print(f"  needs: {need}", highlight=False, markup=False)


def _print_left_out(left_out: list[NotOfferedPublic]) -> None:
    """Models that cannot take the job, then those whose capabilities are not declared
    (their reason says "capabilities unknown")."""
    for entry in sorted(left_out, key=lambda n: not n.capabilities_known):
        named = entry.reason.startswith(entry.model_id)  # most reasons name their model
        why = entry.reason if named else f"{entry.model_id}: {entry.reason}"
        console.print(f"left out: {why}", highlight=False, markup=False)


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
    FallbackType.NO_MODEL: "no model can run the job (mock fallback off)",
}
"""The words for each strategy code."""


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{option} must be one of {', '.join(allowed)}, got {value!r}",
            hint=f"e.g. {option} {allowed[-1]}",
        )
    return value
