"""Advice that is right: every cell of (requested model x job inputs x models available x GPU
memory) against the answer written down for it, on real stores filled from the local hub.

The catalog is the built-in one plus ``mystery-video``, an entry that declares nothing about
what it can do: it is never offered as fit, only listed last as "capabilities unknown".
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelward.availability import (
    ErrorContext,
    FallbackType,
    GenerationRequirements,
    InputMissingError,
    InputUnsupportedError,
    JobInputError,
)
from modelward.devhub import DevHub
from modelward.devhub.shapes import TI2V_5B, WAN_REPOS
from modelward.runtime import Runtime
from modelward.settings import Settings
from tests.conftest import make_settings

T2V, I2V, TI2V, MYSTERY = "t2v-a14b", "i2v-a14b", "ti2v-5b", "mystery-video"
MYSTERY_SHAPE = dataclasses.replace(TI2V_5B, repo_id="acme/Mystery-Video")
MYSTERY_ENTRY = '[models.mystery-video]\nrepo = "acme/Mystery-Video"\nrevision = "main"\n'

USE = FallbackType.USE_REQUESTED
REDUCE = FallbackType.REDUCE_REQUIREMENTS
ALT = FallbackType.ALTERNATIVE_MODEL
FETCH = FallbackType.DOWNLOAD_AND_RETRY
MOCK = FallbackType.MOCK_GENERATION

TEXT, IMAGE, BOTH = frozenset({"text"}), frozenset({"image"}), frozenset({"text", "image"})


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell and its expected answer."""

    requested: str
    inputs: frozenset[str]
    available: frozenset[str]
    vram_gb: float
    strategy: FallbackType
    runs_on: str | None
    """The model the job runs on (or is to fetch); None for the mock."""
    offered: tuple[str, ...]
    """Alternatives offered, best first."""
    requested_fits: bool | None

    @property
    def id(self) -> str:
        have = "+".join(sorted(self.available)) or "nothing"
        return f"{self.requested}-{'+'.join(sorted(self.inputs))}-have-{have}-{self.vram_gb:g}GB"


def cell(
    requested: str,
    inputs: frozenset[str],
    available: set[str],
    vram_gb: float,
    strategy: FallbackType,
    runs_on: str | None,
    offered: tuple[str, ...],
    fits: bool | None = True,
) -> Cell:
    """A row of the table below."""
    return Cell(requested, inputs, frozenset(available), vram_gb, strategy, runs_on, offered, fits)


# fmt: off
MATRIX = [
    # A text job for T2V: here and fitting, T2V is the answer, whatever else is here.
    cell(T2V, TEXT, {T2V, TI2V}, 80, USE, T2V, (TI2V,)),
    cell(T2V, TEXT, {T2V}, 80, USE, T2V, (TI2V,)),
    cell(T2V, TEXT, {TI2V}, 80, ALT, TI2V, (TI2V,)),
    cell(T2V, TEXT, set(), 80, FETCH, T2V, (TI2V,)),
    cell(T2V, TEXT, {MYSTERY}, 80, FETCH, T2V, (TI2V,)),
    # T2V cannot run in 32 GB even with offload: TI2V (with offload) is, here or fetched.
    cell(T2V, TEXT, {T2V, TI2V}, 32, ALT, TI2V, (TI2V,), fits=False),
    cell(T2V, TEXT, {T2V}, 32, FETCH, TI2V, (TI2V,), fits=False),
    # 16 GB: nothing runs the job; only the labelled mock.
    cell(T2V, TEXT, {T2V, TI2V}, 16, MOCK, None, (), fits=False),
    # TI2V asked and here: it is the answer even beside the higher-quality T2V.
    cell(TI2V, TEXT, {T2V, TI2V}, 80, USE, TI2V, (T2V,)),
    cell(TI2V, TEXT, {TI2V}, 32, REDUCE, TI2V, ()),
    cell(TI2V, BOTH, set(), 80, FETCH, TI2V, (I2V,)),
    # An image job asked of T2V: T2V cannot take it; I2V and TI2V can.
    cell(T2V, IMAGE, {T2V, I2V}, 80, ALT, I2V, (I2V, TI2V), fits=False),
    cell(T2V, IMAGE, {T2V}, 80, FETCH, I2V, (I2V, TI2V), fits=False),
    cell(T2V, BOTH, {T2V, TI2V}, 80, ALT, TI2V, (I2V, TI2V), fits=False),
    cell(I2V, IMAGE, {I2V}, 80, USE, I2V, (TI2V,)),
    cell(I2V, IMAGE, {I2V, TI2V}, 32, ALT, TI2V, (TI2V,), fits=False),
    cell(TI2V, IMAGE, {I2V, TI2V}, 80, USE, TI2V, (I2V,)),
    # A text job asked of I2V (which needs an image): the advice names models that take text.
    cell(I2V, TEXT, {I2V, TI2V}, 80, ALT, TI2V, (T2V, TI2V), fits=False),
    cell(I2V, TEXT, {I2V}, 80, FETCH, T2V, (T2V, TI2V), fits=False),
    # A model whose capabilities are unknown: used when asked for and here, never offered.
    cell(MYSTERY, TEXT, {MYSTERY}, 80, USE, MYSTERY, (T2V, TI2V), fits=None),
    cell(MYSTERY, TEXT, {TI2V}, 80, ALT, TI2V, (T2V, TI2V), fits=None),
]
# fmt: on


class Stores:
    """One real store per set of available models, filled once from the local hub."""

    def __init__(self, root: Path, hub: DevHub, catalog: Path) -> None:
        self.root, self.hub, self.catalog = root, hub, catalog
        self._ready: dict[frozenset[str], Path] = {}

    async def settings_for(self, available: frozenset[str]) -> Settings:
        """Settings of a store where exactly ``available`` models are downloaded."""
        if available not in self._ready:
            folder = self.root / ("have-" + "+".join(sorted(available)))
            async with Runtime(self._settings(folder)) as runtime:
                for model_id in sorted(available):
                    assert (await runtime.downloader.download_with_retry(model_id)).success
            self._ready[available] = folder
        return self._settings(self._ready[available])

    def _settings(self, folder: Path) -> Settings:
        return make_settings(folder, self.hub.url, catalog_files=(self.catalog,))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    root = tmp_path_factory.mktemp("matrix")
    catalog = root / "mystery.toml"
    catalog.write_text(MYSTERY_ENTRY, encoding="utf-8")
    hub = DevHub(root=root / "hub", scale="tiny", repos=(*WAN_REPOS, MYSTERY_SHAPE))
    with hub.running_in_thread() as running:
        yield Stores(root / "stores", running, catalog)


@contextlib.asynccontextmanager
async def _store(stores: Stores, available: frozenset[str]) -> AsyncIterator[Runtime]:
    async with Runtime(await stores.settings_for(available)) as runtime:
        yield runtime


def _job(c: Cell) -> GenerationRequirements:
    return GenerationRequirements(inputs=c.inputs, vram_gb=c.vram_gb)


@pytest.mark.parametrize("c", MATRIX, ids=[c.id for c in MATRIX])
async def test_each_cell_gets_its_answer(stores: Stores, c: Cell) -> None:
    async with _store(stores, c.available) as runtime:
        advice = await runtime.fallback.advise(c.requested, _job(c))
        strategy = advice.strategy
        assert strategy.strategy_type is c.strategy, strategy.user_message
        runs_on = (
            c.requested
            if strategy.strategy_type in (USE, REDUCE)
            else strategy.alternative_model or (None if c.strategy is MOCK else c.requested)
        )
        assert runs_on == c.runs_on, strategy.user_message
        assert [s.suggested_model for s in advice.alternatives] == list(c.offered)
        assert advice.requested.fits is c.requested_fits, advice.requested.reason
        # Left out: every other model, the unknown one last and said to be unknown.
        left_out = [n.model_id for n in advice.not_offered]
        assert sorted([*left_out, *c.offered, c.requested]) == sorted([T2V, I2V, TI2V, MYSTERY])
        if c.requested != MYSTERY:
            assert left_out[-1] == MYSTERY and not advice.not_offered[-1].capabilities_known
            assert "capabilities unknown" in advice.not_offered[-1].reason
        # The seed's single suggestion is the best of the offered, or none.
        if c.offered:
            best = await runtime.fallback.suggest_alternative_model(c.requested, _job(c))
            assert best.suggested_model == c.offered[0]


async def test_the_requested_model_here_and_fitting_is_the_answer_in_words(
    stores: Stores,
) -> None:
    async with _store(stores, MATRIX[0].available) as runtime:
        advice = await runtime.fallback.advise(T2V, _job(MATRIX[0]))
        assert advice.strategy.user_message.startswith("use t2v-a14b: it is available and fits")
        assert advice.strategy.alternative_model is None
        found = await runtime.availability.handle_model_request(T2V, _job(MATRIX[0]))
        assert found.model_id == T2V and found.path and found.strategy is None
        # The seed's strategy call says the same: no alternative replaces it.
        decided = await runtime.fallback.get_fallback_strategy(T2V, ErrorContext(_job(MATRIX[0])))
        assert decided.strategy_type is USE


async def test_reasons_say_what_differs_and_why_a_model_is_left_out(stores: Stores) -> None:
    text_job = next(c for c in MATRIX if c.requested == T2V and c.available == {TI2V})
    async with _store(stores, text_job.available) as runtime:
        advice = await runtime.fallback.advise(T2V, _job(text_job))
        [ti2v] = advice.alternatives
        assert ti2v.reason.startswith("ti2v-5b takes text, an image or both at 720p")
        assert "quality medium, lower than t2v-a14b's high" in ti2v.reason
        assert ti2v.estimated_quality_difference.value == "slightly_lower"
        i2v = next(n for n in advice.not_offered if n.model_id == I2V)
        assert i2v.reason == "i2v-a14b needs an image; this job has only text"
        assert i2v.capabilities_known

    image_job = next(c for c in MATRIX if c.requested == T2V and c.inputs == IMAGE)
    async with _store(stores, image_job.available) as runtime:
        advice = await runtime.fallback.advise(T2V, _job(image_job))
        assert advice.requested.reason == "t2v-a14b needs text; this job has only an image"
        i2v_offer = advice.alternatives[0]
        assert "like t2v-a14b" not in i2v_offer.reason
        assert i2v_offer.reason.startswith("t2v-a14b needs text; this job has only an image; ")
        assert "i2v-a14b takes an image (optionally with text) at 480p or 720p" in i2v_offer.reason


async def test_unknown_capabilities_are_never_fit(stores: Stores) -> None:
    async with _store(stores, frozenset({MYSTERY})) as runtime:
        for inputs in (TEXT, IMAGE, BOTH):
            advice = await runtime.fallback.advise(T2V, GenerationRequirements(inputs=inputs))
            assert MYSTERY not in [s.suggested_model for s in advice.alternatives]
            assert advice.not_offered[-1].model_id == MYSTERY
        own = await runtime.fallback.advise(MYSTERY, GenerationRequirements())
        assert own.requested.fits is None and "not declared" in own.strategy.user_message


@pytest.mark.parametrize(
    ("model_id", "inputs", "error", "named"),
    [
        (I2V, TEXT, InputMissingError, "needs an image"),
        (T2V, IMAGE, InputMissingError, "needs text"),
        (T2V, BOTH, InputUnsupportedError, "this job also gives an image"),
    ],
)
async def test_a_job_its_model_cannot_take_is_refused_naming_the_input(
    stores: Stores, model_id: str, inputs: frozenset[str], error: type[JobInputError], named: str
) -> None:
    async with _store(stores, frozenset({T2V, I2V})) as runtime:
        with pytest.raises(error) as refused:
            await runtime.availability.handle_model_request(
                model_id, GenerationRequirements(inputs=inputs)
            )
        assert named in refused.value.message and refused.value.hint
        # Nothing ran: the model the job asked for was here, and no lease was taken.
        assert not runtime.manager.in_use(model_id)
        with pytest.raises(error):
            async with runtime.bridge.use_model(model_id, GenerationRequirements(inputs=inputs)):
                pass
