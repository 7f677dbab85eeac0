"""The seed's IntelligentFallbackManager: what a job can use when its model is not there.

Every decision reads live facts: each model's state (store, jobs, health), the measured
download speed and queue, free disk, the GPU memory the job has, and whether the source
answers. The strategies, most useful first: the requested model itself when it is here and
fits the job (USE_REQUESTED: an alternative never replaces it), or with smaller demands
(REDUCE_REQUIREMENTS), wait for the model that is on its way (QUEUE_AND_WAIT), an
alternative that is ready (ALTERNATIVE_MODEL), fetch or repair it (DOWNLOAD_AND_RETRY), and
only when nothing else can work a clearly labelled mock (MOCK_GENERATION) with the steps
that would make the real model available. An alternative is only ever a model that really
takes the job's inputs; one whose capabilities are not declared is never offered. When the
requested model cannot take the job at all (its inputs, its GPU memory), waiting for it is
no answer: a model that can is used or fetched.

Requests are answered here too: :meth:`IntelligentFallbackManager.handle_model_request` is
the seed's ``ModelAvailabilityManager.handle_model_request``, which the runtime attaches to
the manager, so the manager never depends on this module.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from modelward.actions import Action, Step
from modelward.availability.advice import (
    MOCK_NOTE,
    ON_THE_WAY,
    Advice,
    NotOffered,
    RequestedFit,
    alternative,
    no_model,
    not_offered,
    queue_and_wait,
    requested_fit,
    retry_when_ready,
    suggestion,
    use_requested,
    why_unfit,
)
from modelward.availability.gpu import VramProbe
from modelward.availability.manager import ModelAvailabilityManager
from modelward.availability.queueing import (
    GenerationRequest,
    QueueResult,
    refused_paused,
    released,
    waiting,
)
from modelward.availability.requests import DEFAULT_TTL_S, QueuedRequest
from modelward.availability.requirements import (
    GenerationRequirements,
    ModelSuggestion,
    job_inputs,
)
from modelward.availability.scoring import (
    Fit,
    check_job_inputs,
    exclusion,
    fit,
)
from modelward.availability.strategy import (
    ErrorCategory,
    ErrorContext,
    FallbackFeatures,
    FallbackStrategy,
    FallbackType,
    ModelRequestResult,
)
from modelward.availability.wait import EstimatedWaitTime, estimate, ready, stuck
from modelward.catalog import ModelSpec
from modelward.errors import FeatureOffError, ModelwardError, NoAlternativeError
from modelward.status import DetailedModelStatus, ModelAvailabilityStatus
from modelward.store.space import free_bytes
from modelward.transfer import DownloadStatus
from modelward.units import format_size

MIN_ALTERNATIVE_SCORE = 0.5
"""Below this an alternative is too far from the job to offer on its own."""
REACHABLE_TIMEOUT_S = 10.0
Ranked = list[tuple[Fit, DetailedModelStatus]]


class IntelligentFallbackManager:
    """Suggests alternatives, decides strategies and estimates waits from live facts."""

    def __init__(
        self,
        availability_manager: ModelAvailabilityManager,
        *,
        vram: VramProbe | None = None,
        unhashed_tail_bytes: int | None = None,
    ) -> None:
        """``IntelligentFallbackManager(availability_manager)`` as the seed builds it; the
        GPU memory setting and the transfer's unhashed tail come from the settings, and it
        answers the manager's ``handle_model_request`` unless something else already does."""
        self.availability = availability_manager
        self.downloader = availability_manager.downloader
        self.health = availability_manager.health
        self.requests = availability_manager.requests
        self.catalog = availability_manager.catalog
        settings = self.downloader.settings
        self.vram = vram or VramProbe(settings.vram_gb)
        """GPU memory a job has when its requirements do not say: the setting, or the GPU's."""
        self.features = FallbackFeatures()
        """Which enhancements the strategies may use (the runtime sets them from settings)."""
        tail = settings.connections_per_file * settings.segment_bytes
        self.unhashed_tail_bytes = tail if unhashed_tail_bytes is None else unhashed_tail_bytes
        """Bytes a download still hashes after its last byte (the runtime keeps it current)."""
        if not availability_manager.answers_requests:
            availability_manager.attach_request_handler(self.handle_model_request)

    async def suggest_alternative_model(
        self, requested_model: str, requirements: GenerationRequirements
    ) -> ModelSuggestion:
        """The best other catalog model that really takes the job, ready ones first among
        close scores; raises :class:`NoAlternativeError` naming why each model was left out
        (those whose capabilities are unknown last)."""
        requested = self.catalog.get(requested_model)
        if not self.features.alternatives:
            raise NoAlternativeError(
                "alternative suggestions are switched off",
                hint="Switch the feature alternative_suggestions on to be offered other models.",
            )
        req = await self._with_vram(requirements)
        ranked, left_out = await self._ranked(requested, req)
        if not ranked:
            raise NoAlternativeError(
                f"no other model can serve this job instead of {requested_model}: "
                + "; ".join(n.reason for n in left_out)
            )
        best, status = ranked[0]
        return suggestion(best, status, requested, why_unfit(requested, req))

    async def advise(self, requested_model: str, requirements: GenerationRequirements) -> Advice:
        """The whole answer for a job: how the requested model fits, what to do now, every
        other model that takes the job (what differs) and every one that does not (why)."""
        spec = self.catalog.get(requested_model)
        req = await self._with_vram(requirements)
        status = await self._status(requested_model)
        ranked, left_out = await self._ranked(spec, req)
        strategy = await self._decide(spec, status, req, ErrorContext(req), ranked)
        unfit = why_unfit(spec, req)
        return Advice(
            requested_fit(spec, status, req),
            strategy,
            tuple(suggestion(f, s, spec, unfit) for f, s in ranked),
            tuple(left_out),
        )

    async def estimate_wait_time(self, model_id: str) -> EstimatedWaitTime:
        """When ``model_id`` should be ready: remaining bytes at the measured speed, behind
        the downloads ahead of it, plus the hashing tail; None seconds when it will not get
        ready by itself (paused, failed, damaged), with the reason."""
        status = await self._status(model_id)
        return await self._wait(status)

    async def get_fallback_strategy(
        self, failed_model: str, error_context: ErrorContext
    ) -> FallbackStrategy:
        """What the job should do about ``failed_model``: use it when it is here and fits
        (USE_REQUESTED; an alternative never replaces it), else the best other way."""
        spec = self.catalog.get(failed_model)
        req = await self._with_vram(error_context.requirements)
        status = await self._status(failed_model)
        return await self._decide(spec, status, req, error_context)

    async def handle_model_request(
        self, model_type: str, requirements: GenerationRequirements | None = None
    ) -> ModelRequestResult:
        """The seed's ``ModelAvailabilityManager.handle_model_request``, decided here (the
        runtime attaches it to the manager): the model itself when it is ready and fits, a
        ready alternative, or the strategy. A job missing an input its model requires (or
        giving one it cannot take) is refused with :class:`JobInputError`."""
        spec = self.catalog.get(model_type)
        req = await self._with_vram(requirements or GenerationRequirements())
        check_job_inputs(spec, req.inputs, self.catalog)
        status = await self._status(model_type)
        state = status.availability_status
        strategy = await self._decide(spec, status, req, ErrorContext(req))
        kind = strategy.strategy_type
        if kind in (FallbackType.USE_REQUESTED, FallbackType.REDUCE_REQUIREMENTS):
            changed = strategy if kind is FallbackType.REDUCE_REQUIREMENTS else None
            return ModelRequestResult(model_type, state, model_type, status.local_path, changed)
        upgrade = _how_to_get(model_type, state)
        if kind is FallbackType.ALTERNATIVE_MODEL and strategy.alternative_model:
            alt = await self._status(strategy.alternative_model)
            if alt.is_available:
                return ModelRequestResult(
                    model_type, state, alt.model_id, alt.local_path, strategy, upgrade
                )
        return ModelRequestResult(model_type, state, None, None, strategy, upgrade)

    async def _decide(
        self,
        spec: ModelSpec,
        status: DetailedModelStatus,
        req: GenerationRequirements,
        context: ErrorContext,
        ranked: Ranked | None = None,
    ) -> FallbackStrategy:
        """The strategy from the facts, most useful first (see the module docstring)."""
        own = requested_fit(spec, status, req)
        if own.fits is not False:
            reduced = self._reduced(spec, status, req, context)
            if reduced is not None:
                return reduced
            if status.is_available and context.category is ErrorCategory.MODEL_UNAVAILABLE:
                return use_requested(spec, req, known=own.fits is True)
        if ranked is None:
            ranked, _left_out = await self._ranked(spec, req)
        ready_alt = next(
            ((f, s) for f, s in ranked if s.is_available and f.score >= MIN_ALTERNATIVE_SCORE),
            None,
        )
        if own.fits is False:
            return await self._instead(spec, status, own, ranked, ready_alt)
        wait = await self._wait(status)
        if status.availability_status in ON_THE_WAY:
            within = req.max_wait is None or (
                wait.seconds is not None and wait.seconds <= req.max_wait.total_seconds()
            )
            if within or ready_alt is None:
                if not self.features.queueing:
                    return retry_when_ready(spec.id, wait)
                return queue_and_wait(spec.id, wait)
        if ready_alt is not None:
            return alternative(ready_alt, spec, wait, status)
        fetch = await self._fetch_strategy(spec, status, wait)
        if fetch is not None:
            return fetch
        return self._last_resort(self._mock(spec, status, ranked))

    async def _instead(
        self,
        spec: ModelSpec,
        status: DetailedModelStatus,
        own: RequestedFit,
        ranked: Ranked,
        ready_alt: tuple[Fit, DetailedModelStatus] | None,
    ) -> FallbackStrategy:
        """The requested model cannot take this job at all: waiting for it or fetching it
        would not help, so a model that can (ready, or fetched) is the way."""
        wait = await self._wait(status)
        if ready_alt is not None:
            return alternative(ready_alt, spec, wait, status, own.reason)
        if ranked:
            best, best_status = ranked[0]
            other = self.catalog.get(best.model_id)
            fetch = await self._fetch_strategy(other, best_status, await self._wait(best_status))
            if fetch is not None:
                offered = suggestion(best, best_status, spec, own.reason)
                return dataclasses.replace(
                    fetch,
                    alternative_model=best.model_id,
                    user_message=f"{own.reason}; {fetch.user_message}",
                    suggestion=offered,
                    changes=best.needs,
                    can_queue_request=False,
                )
        mock = dataclasses.replace(
            self._mock(spec, status, ranked),
            user_message=f"{own.reason}; no model that takes this job can be used now. "
            + MOCK_NOTE,
        )
        return self._last_resort(mock)

    async def queue_request_for_downloading_model(
        self, model_id: str, request: GenerationRequest, ttl_s: float = DEFAULT_TTL_S
    ) -> QueueResult:
        """Keep ``request`` until ``model_id`` is ready, then release it (event
        ``request.released``; :meth:`RequestQueue.wait` in-process). A missing model's
        download (a damaged one's repair) is started; a paused one is left to its owner.
        A request missing an input the model requires is refused (:class:`JobInputError`)."""
        self._check_queueable(model_id, request)
        status = await self._status(model_id)
        if status.availability_status is ModelAvailabilityStatus.PAUSED:
            return refused_paused(model_id)
        await self._start_getting(model_id, status.availability_status)
        queued = await self.requests.put(model_id, dataclasses.asdict(request), ttl_s)
        if not status.is_available:
            # The download may have completed (and released its requests) while this one
            # was being stored: looked at again, a ready model releases it now.
            status = await self._status(model_id)
        if status.is_available:
            return released(await self._release_own(model_id, queued))
        return waiting(queued, await self.estimate_wait_time(model_id))

    def _check_queueable(self, model_id: str, request: GenerationRequest) -> None:
        """Refuse a request its model cannot take, or any when queueing is switched off."""
        given = job_inputs(request.prompt, request.image)
        check_job_inputs(self.catalog.get(model_id), given, self.catalog)
        if not self.features.queueing:
            raise FeatureOffError(
                f"request queueing is switched off: the job for {model_id} is not kept",
                hint="Run the job again once the model is ready, or switch the feature "
                "request_queueing on.",
            )

    async def _start_getting(self, model_id: str, state: ModelAvailabilityStatus) -> None:
        """Start the download of a missing (or failed) model, the repair of a damaged one."""
        if state in (ModelAvailabilityStatus.MISSING, ModelAvailabilityStatus.FAILED):
            await self.downloader.start_download(model_id)
        elif state is ModelAvailabilityStatus.CORRUPTED:
            self.health.start_repair(model_id)

    async def _release_own(self, model_id: str, queued: QueuedRequest) -> QueuedRequest:
        """``queued`` once its ready model's requests are released. Requests queued by
        concurrent jobs go with it, or theirs already took it: its own state answers."""
        for done in await self.requests.release(model_id):
            if done.request_id == queued.request_id:
                return done
        return await self.requests.get(queued.request_id)

    async def restore_requests(self) -> None:
        """After a restart: expire what is past its time and release what is ready."""
        await self.requests.expire()
        for model_id in sorted({r.model_id for r in await self.requests.pending()}):
            if model_id in self.catalog and (await self._status(model_id)).is_available:
                await self.requests.release(model_id)

    async def _with_vram(self, req: GenerationRequirements) -> GenerationRequirements:
        if req.vram_gb is None:
            free = await self.vram.read_gb()
            if free is not None:
                return dataclasses.replace(req, vram_gb=free)
        return req

    async def _status(self, model_id: str) -> DetailedModelStatus:
        return await self.availability.status(model_id)

    async def _ranked(
        self, requested: ModelSpec, req: GenerationRequirements
    ) -> tuple[Ranked, list[NotOffered]]:
        """Every other model that really takes the job, best first; and why the rest
        cannot (those whose capabilities are unknown last)."""
        fits: Ranked = []
        left_out: list[NotOffered] = []
        if not self.features.alternatives:
            return fits, left_out  # the plain base system knows no alternatives
        for candidate in self.catalog:
            if candidate.id == requested.id:
                continue
            scored = fit(candidate, requested, req)
            if scored is None:
                why = exclusion(candidate, requested, req) or candidate.id
                left_out.append(not_offered(candidate, requested, why))
                continue
            fits.append((scored, await self._status(candidate.id)))
        # A ready model gets a small lead: "usable now" matters, but not more than fit.
        fits.sort(
            key=lambda fs: (-(fs[0].score + (0.1 if fs[1].is_available else 0.0)), fs[0].model_id)
        )
        left_out.sort(key=lambda n: not n.capabilities_known)  # stable: catalog order kept
        return fits, left_out

    async def _wait(self, status: DetailedModelStatus) -> EstimatedWaitTime:
        model_id = status.model_id
        state = status.availability_status
        remaining = max(0, status.size_bytes - status.present_bytes)
        if state is ModelAvailabilityStatus.AVAILABLE:
            return ready(model_id)
        if state is ModelAvailabilityStatus.PAUSED:
            return stuck(model_id, remaining, "paused: resume it to continue")
        if state is ModelAvailabilityStatus.FAILED:
            why = status.error_message or "the download failed"
            return stuck(model_id, remaining, f"{why}: download it again to retry")
        if state is ModelAvailabilityStatus.CORRUPTED:
            return stuck(model_id, remaining, "damaged: repair it to mend it")
        entries = await self.downloader.queue_entries()
        order = [e.model_id for e in entries]
        position = order.index(model_id) + 1 if model_id in order else None  # 1 = next
        ahead = order[: position - 1] if position is not None else order
        bytes_ahead = 0
        speed = 0.0
        for other in entries:
            progress = await self.downloader.get_download_progress(other.model_id)
            if other.status is DownloadStatus.DOWNLOADING:
                speed += progress.speed_bytes_per_s  # running downloads share the link
            if other.model_id in ahead:
                bytes_ahead += max(0, progress.total_bytes - progress.downloaded_bytes)
        if model_id in order:
            own = await self.downloader.get_download_progress(model_id)
            if own.total_bytes:
                remaining = max(0, own.total_bytes - own.downloaded_bytes)
        return estimate(
            model_id,
            remaining_bytes=remaining,
            bytes_ahead=bytes_ahead,
            queue_position=position,
            measured_bytes_per_s=speed,
            unhashed_tail_bytes=min(remaining, self.unhashed_tail_bytes),
        )

    def _reduced(
        self,
        spec: ModelSpec,
        status: DetailedModelStatus,
        req: GenerationRequirements,
        context: ErrorContext,
    ) -> FallbackStrategy | None:
        """REDUCE_REQUIREMENTS when the model is here and asking less of it would work."""
        if not status.is_available or req.vram_gb is None or spec.vram_min_gb is None:
            return None
        recommended = spec.vram_recommended_gb or spec.vram_min_gb
        short = context.category is ErrorCategory.VRAM_INSUFFICIENT or req.vram_gb < recommended
        if not short or req.vram_gb < spec.vram_min_gb:
            return None
        changes = ["enable CPU offload of the model and the text encoder"]
        lower = lower_resolution(req.resolution, spec.capabilities.resolutions)
        if lower:
            changes.append(f"or render at a lower resolution ({lower})")
        return FallbackStrategy(
            FallbackType.REDUCE_REQUIREMENTS,
            recommended_action=f"run {spec.id} with CPU offload",
            user_message=(
                f"{spec.id} wants {recommended:g} GB of GPU memory and the job has "
                f"{req.vram_gb:g} GB; with CPU offload it runs in {spec.vram_min_gb:g} GB, "
                "more slowly."
            ),
            changes=tuple(changes),
        )

    async def _fetch_strategy(
        self, spec: ModelSpec, status: DetailedModelStatus, wait: EstimatedWaitTime
    ) -> FallbackStrategy | None:
        """DOWNLOAD_AND_RETRY when the source answers and the disk has room."""
        state = status.availability_status
        if state not in (
            ModelAvailabilityStatus.MISSING,
            ModelAvailabilityStatus.PAUSED,
            ModelAvailabilityStatus.FAILED,
            ModelAvailabilityStatus.CORRUPTED,
        ):
            return None
        try:
            # The source's answer both proves it reachable and gives the real size.
            target = await asyncio.wait_for(
                self.downloader.source(spec.id).resolve(spec), REACHABLE_TIMEOUT_S
            )
        except (ModelwardError, TimeoutError):
            return None
        remaining = max(0, target.size_bytes - status.present_bytes)
        free = await asyncio.to_thread(free_bytes, self.downloader.manager.cache_dir)
        if state is not ModelAvailabilityStatus.CORRUPTED and remaining > free:
            return None
        if state is ModelAvailabilityStatus.CORRUPTED:
            action, what = Action.REPAIR, "repair it (only its damaged blocks are fetched)"
        else:
            action, what = Action.DOWNLOAD, "fetch what it still needs"
        if wait.seconds is None or wait.queue_position is None:
            # Not in the queue (missing, paused, failed): once started it is a plain
            # download of what the source says is still missing.
            wait = estimate(
                spec.id,
                remaining_bytes=remaining,
                bytes_ahead=0,
                queue_position=None,
                measured_bytes_per_s=0.0,
                unhashed_tail_bytes=min(remaining, self.unhashed_tail_bytes),
            )
        return FallbackStrategy(
            FallbackType.DOWNLOAD_AND_RETRY,
            recommended_action=f"{action} {spec.id}, then run the job again",
            estimated_wait_time=wait.estimate,
            user_message=f"{spec.id} is {state.value}; {what}: {wait.reason}.",
            can_queue_request=self.features.queueing,
            wait=wait,
            action=action,
            action_model=spec.id,
        )

    def _mock(
        self,
        spec: ModelSpec,
        status: DetailedModelStatus,
        ranked: list[tuple[Fit, DetailedModelStatus]],
    ) -> FallbackStrategy:
        steps = [
            Step(
                f"check the network and the endpoint, then download {spec.id}",
                Action.DOWNLOAD,
                spec.id,
            ),
            Step(
                f"make room: {spec.id} needs {format_size(status.size_bytes)} on the disk of "
                "the store"
            ),
        ]
        if ranked:
            other = ranked[0][0].model_id
            steps.append(
                Step(
                    f"or download {other}, an alternative that fits the job",
                    Action.DOWNLOAD,
                    other,
                )
            )
        return FallbackStrategy(
            FallbackType.MOCK_GENERATION,
            recommended_action="use the mock generator for now (its output is not real)",
            user_message=(
                f"{spec.id} is {status.availability_status.value} and cannot be fetched now; "
                f"no ready model can serve the job. {MOCK_NOTE}"
            ),
            steps=tuple(steps),
        )

    def _last_resort(self, mock: FallbackStrategy) -> FallbackStrategy:
        """The mock strategy, or NO_MODEL when the mock fallback is switched off."""
        return mock if self.features.mock else no_model(mock)


def _how_to_get(model_id: str, state: ModelAvailabilityStatus) -> Step:
    """How the requested model gets here while a job uses something else."""
    then = "; new jobs use it as soon as it is ready, without a restart"
    if state is ModelAvailabilityStatus.PAUSED:
        return Step(f"{model_id} is paused: resume it{then}", Action.RESUME, model_id)
    if state is ModelAvailabilityStatus.CORRUPTED:
        return Step(f"{model_id} is damaged: repair it{then}", Action.REPAIR, model_id)
    if state in ON_THE_WAY:
        return Step(f"{model_id} is {state.value}: it is on its way{then}")
    return Step(f"{model_id} is {state.value}: download it{then}", Action.DOWNLOAD, model_id)


def lower_resolution(asked: str | None, offered: Sequence[str]) -> str | None:
    """The largest of ``offered`` with fewer pixels than ``asked`` (the least quality given
    up), the same orientation first; compared by pixel count, never as text."""
    if not asked:
        return None
    width, height = _size(asked)
    lower = [r for r in offered if _pixels(r) < width * height]
    same_way = [r for r in lower if (_size(r)[0] >= _size(r)[1]) == (width >= height)]
    return max(same_way or lower, key=_pixels, default=None)


def _size(resolution: str) -> tuple[int, int]:
    width, _, height = resolution.partition("x")
    return int(width), int(height)


def _pixels(resolution: str) -> int:
    width, height = _size(resolution)
    return width * height
