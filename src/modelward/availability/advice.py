"""What modelward advises for a job, as data: how the requested model fits, the strategy,
and every other model either offered (with what differs) or not offered (with why).

Pure builders over scoring results and statuses; the fallback manager gathers the facts.
Quality differences and states stay codes here (``slightly_lower``, ``missing``); the CLI
and the dashboard turn them into words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from modelward.availability.requirements import GenerationRequirements, ModelSuggestion
from modelward.availability.scoring import (
    Fit,
    fit,
    input_mismatch,
    offers,
    unknown_capabilities,
    vram_shortfall,
)
from modelward.availability.strategy import FallbackStrategy, FallbackType
from modelward.availability.wait import EstimatedWaitTime
from modelward.catalog import ModelSpec
from modelward.status import DetailedModelStatus, ModelAvailabilityStatus

ON_THE_WAY = frozenset(
    {
        ModelAvailabilityStatus.QUEUED,
        ModelAvailabilityStatus.DOWNLOADING,
        ModelAvailabilityStatus.VERIFYING,
        ModelAvailabilityStatus.REPAIRING,
        ModelAvailabilityStatus.UPDATING,
    }
)
"""The one definition of "on its way": a job is fetching or changing the model's files
(UPDATING: a newer version arrives beside the one served, which stays usable)."""

MOCK_NOTE = "The output will be a labelled mock."
NO_MODEL_NOTE = "No model can run it, and the mock fallback is switched off."


@dataclass(frozen=True, slots=True)
class RequestedFit:
    """Whether the requested model can serve the job, whatever its state."""

    model_id: str
    availability_status: ModelAvailabilityStatus
    fits: bool | None
    """True: it can take the job; False: it cannot (see ``reason``); None: its catalog entry
    does not declare what it takes, so nobody can tell."""
    reason: str


@dataclass(frozen=True, slots=True)
class NotOffered:
    """A model left out of the advice, and why."""

    model_id: str
    reason: str
    capabilities_known: bool
    """False: listed last, as "capabilities unknown"."""


@dataclass(frozen=True, slots=True)
class Advice:
    """The whole answer for a job: the requested model, what to do now, and the others."""

    requested: RequestedFit
    strategy: FallbackStrategy
    alternatives: tuple[ModelSuggestion, ...]
    """Models that really take the job, best first (ready ones lead among close scores)."""
    not_offered: tuple[NotOffered, ...]
    """Models that cannot take the job, then those whose capabilities are unknown."""


def requested_fit(
    spec: ModelSpec, status: DetailedModelStatus, req: GenerationRequirements
) -> RequestedFit:
    """How the requested model fits the job (inputs, GPU memory), in words."""
    state = status.availability_status
    if not spec.capabilities.inputs:
        why = f"{spec.id}: capabilities unknown, so whether it fits this job cannot be told"
        return RequestedFit(spec.id, state, None, why)
    why_not = why_unfit(spec, req)
    if why_not is not None:
        return RequestedFit(spec.id, state, False, why_not)
    return RequestedFit(spec.id, state, True, f"{offers(spec)}: it fits this job")


def why_unfit(spec: ModelSpec, req: GenerationRequirements) -> str | None:
    """Why the requested model cannot take the job (None: it can, or its capabilities are
    unknown)."""
    if not spec.capabilities.inputs:
        return None
    return input_mismatch(spec, req.inputs) or vram_shortfall(spec, req.vram_gb)


def not_offered(candidate: ModelSpec, requested: ModelSpec, why: str) -> NotOffered:
    """A left-out model, marked when what it can do is simply not declared."""
    return NotOffered(candidate.id, why, unknown_capabilities(candidate, requested) is None)


def suggestion(
    best: Fit,
    status: DetailedModelStatus,
    requested: ModelSpec,
    requested_unfit: str | None = None,
) -> ModelSuggestion:
    """The seed's ModelSuggestion for ``best``: what it takes, what differs, its state."""
    parts = [requested_unfit] if requested_unfit else []
    parts += list(best.reasons)
    parts.append("ready now" if status.is_available else f"{status.availability_status.value}")
    return ModelSuggestion(
        suggested_model=best.model_id,
        compatibility_score=best.score,
        performance_difference=best.performance_difference,
        availability_status=status.availability_status,
        reason="; ".join(parts),
        estimated_quality_difference=best.quality_difference,
        needs=best.needs,
    )


def use_requested(spec: ModelSpec, req: GenerationRequirements, known: bool) -> FallbackStrategy:
    """USE_REQUESTED: the requested model is here and serves the job; nothing replaces it."""
    own = fit(spec, None, req)
    changes = own.needs if own is not None else ()
    why = (
        "it is available and fits"
        if known
        else "it is available (its capabilities are not declared, so modelward cannot "
        "tell whether it fits this job)"
    )
    return FallbackStrategy(
        FallbackType.USE_REQUESTED,
        recommended_action=f"use {spec.id}",
        user_message=f"use {spec.id}: {why}" + (f" ({'; '.join(changes)})" if changes else ""),
        changes=changes,
    )


def queue_and_wait(model_id: str, wait: EstimatedWaitTime) -> FallbackStrategy:
    """QUEUE_AND_WAIT: the requested model is on its way and the wait suits the job."""
    return FallbackStrategy(
        FallbackType.QUEUE_AND_WAIT,
        recommended_action=f"queue the job; it runs when {model_id} is ready",
        estimated_wait_time=wait.estimate,
        user_message=f"{model_id} is on its way: {wait.reason}.",
        can_queue_request=True,
        wait=wait,
    )


def retry_when_ready(model_id: str, wait: EstimatedWaitTime) -> FallbackStrategy:
    """DOWNLOAD_AND_RETRY for a model on its way when request queueing is switched off:
    nothing to start, the job is run again once the model is ready."""
    return FallbackStrategy(
        FallbackType.DOWNLOAD_AND_RETRY,
        recommended_action=f"run the job again when {model_id} is ready",
        estimated_wait_time=wait.estimate,
        user_message=f"{model_id} is on its way: {wait.reason}. Request queueing is "
        "switched off, so run the job again once it is ready.",
        wait=wait,
    )


def no_model(mock: FallbackStrategy) -> FallbackStrategy:
    """NO_MODEL: the mock strategy's facts and steps, without the mock (switched off)."""
    return dataclasses.replace(
        mock,
        strategy_type=FallbackType.NO_MODEL,
        recommended_action="no model can run the job now; follow the steps",
        user_message=mock.user_message.replace(MOCK_NOTE, NO_MODEL_NOTE),
    )


def alternative(
    chosen: tuple[Fit, DetailedModelStatus],
    requested: ModelSpec,
    wait: EstimatedWaitTime,
    status: DetailedModelStatus,
    requested_unfit: str | None = None,
) -> FallbackStrategy:
    """ALTERNATIVE_MODEL: a ready model that takes the job, and what choosing it means."""
    best, alt_status = chosen
    offered = suggestion(best, alt_status, requested, requested_unfit)
    on_the_way = requested_unfit is None and status.availability_status in ON_THE_WAY
    later = f"; {requested.id} itself: {wait.reason}" if on_the_way else ""
    why = (
        f"{offered.reason}"
        if requested_unfit
        else f"{requested.id} is {status.availability_status.value}; {offered.reason}"
    )
    return FallbackStrategy(
        FallbackType.ALTERNATIVE_MODEL,
        recommended_action=f"run the job on {best.model_id}",
        alternative_model=best.model_id,
        estimated_wait_time=wait.estimate if on_the_way else None,
        user_message=f"{why}{later}.",
        can_queue_request=on_the_way,
        suggestion=offered,
        changes=best.needs,
    )
