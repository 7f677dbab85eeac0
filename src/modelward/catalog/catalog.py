"""The loaded catalog: an immutable, ordered set of model specs and where each came from."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from modelward.catalog.spec import ModelSpec
from modelward.errors import CatalogError, UnknownModelError

BUILTIN_ORIGIN = "built-in"
REMEMBERED_ORIGIN = "remembered"
"""Origin of entries made by pulling a Hub repo by name (kept in MODELWARD_HOME)."""


class Catalog:
    """Every known model by id, in catalog order, with the file each entry came from.

    Iterating yields the specs; ``in`` and :meth:`get` take ids. Unlike ``dict.get``,
    :meth:`get` raises :class:`UnknownModelError` so callers cannot silently carry ``None``.
    Entries are never removed; :meth:`put` adds a remembered entry to a running catalog.
    """

    __slots__ = ("_by_id", "_given_origins", "_origins", "_specs")

    def __init__(
        self, specs: Iterable[ModelSpec] = (), *, origins: Mapping[str, str] | None = None
    ) -> None:
        by_id: dict[str, ModelSpec] = {}
        for spec in specs:
            if spec.id in by_id:
                raise CatalogError(f"model id '{spec.id}' appears twice", entry=spec.id)
            by_id[spec.id] = spec
        given = origins or {}
        # The read-only views below follow these dicts, so put() reaches every holder.
        self._by_id = by_id
        self._given_origins = {model_id: given.get(model_id, "in-memory") for model_id in by_id}
        self._specs: Mapping[str, ModelSpec] = MappingProxyType(by_id)
        self._origins: Mapping[str, str] = MappingProxyType(self._given_origins)

    def put(self, spec: ModelSpec, *, origin: str) -> None:
        """Add ``spec`` (or replace the entry of its id) while running; iteration sees it
        from now on, after the entries known before."""
        self._by_id[spec.id] = spec
        self._given_origins[spec.id] = origin

    def named_repo(self, repo: str) -> tuple[ModelSpec, ...]:
        """The entries whose files come from the Hub repo ``repo`` (compared as the Hub
        does, ignoring case), in catalog order."""
        wanted = repo.lower()
        return tuple(s for s in self if s.source == "hub" and s.repo.lower() == wanted)

    def get(self, model_id: str) -> ModelSpec:
        """Return the spec for ``model_id`` or raise :class:`UnknownModelError`."""
        try:
            return self._specs[model_id]
        except KeyError:
            raise self._unknown(model_id) from None

    def __getitem__(self, model_id: str) -> ModelSpec:
        return self.get(model_id)

    def origin(self, model_id: str) -> str:
        """The file path the entry came from, or ``"built-in"``."""
        self.get(model_id)
        return self._origins[model_id]

    def ids(self) -> tuple[str, ...]:
        """Model ids in catalog order (built-in first, then as files added them)."""
        return tuple(self._specs)

    def __iter__(self) -> Iterator[ModelSpec]:
        # Over a copy: put() may add an entry while a caller iterates across awaits.
        return iter(tuple(self._specs.values()))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._specs

    def __repr__(self) -> str:
        return f"Catalog({', '.join(self._specs)})"

    def _unknown(self, model_id: str) -> UnknownModelError:
        known = ", ".join(self._specs) or "none"
        close = difflib.get_close_matches(model_id, list(self._specs), n=1)
        guess = f"Did you mean '{close[0]}'? " if close else ""
        return UnknownModelError(
            f"unknown model id '{model_id}'",
            hint=f"{guess}Known ids: {known}.",
        )
