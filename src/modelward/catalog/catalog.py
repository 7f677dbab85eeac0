"""The loaded catalog: an immutable, ordered set of model specs and where each came from."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from modelward.catalog.spec import ModelSpec
from modelward.errors import CatalogError, UnknownModelError

BUILTIN_ORIGIN = "built-in"


class Catalog:
    """Every known model by id, in catalog order, with the file each entry came from.

    Iterating yields the specs; ``in`` and :meth:`get` take ids. Unlike ``dict.get``,
    :meth:`get` raises :class:`UnknownModelError` so callers cannot silently carry ``None``.
    """

    __slots__ = ("_origins", "_specs")

    def __init__(
        self, specs: Iterable[ModelSpec] = (), *, origins: Mapping[str, str] | None = None
    ) -> None:
        by_id: dict[str, ModelSpec] = {}
        for spec in specs:
            if spec.id in by_id:
                raise CatalogError(f"model id '{spec.id}' appears twice", entry=spec.id)
            by_id[spec.id] = spec
        given = origins or {}
        self._specs: Mapping[str, ModelSpec] = MappingProxyType(by_id)
        self._origins: Mapping[str, str] = MappingProxyType(
            {model_id: given.get(model_id, "in-memory") for model_id in by_id}
        )

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
        return iter(self._specs.values())

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
