"""The Catalog container: lookup, iteration, unknown ids."""

from __future__ import annotations

import pytest

from modelward.catalog import Catalog, ModelSpec
from modelward.errors import CatalogError, UnknownModelError


def _spec(model_id: str) -> ModelSpec:
    return ModelSpec(id=model_id, repo=f"org/{model_id}", revision="main")


def test_get_contains_iter_len() -> None:
    catalog = Catalog([_spec("a"), _spec("b")], origins={"a": "/x.toml"})
    assert catalog.get("a").repo == "org/a"
    assert catalog["b"].id == "b"
    assert "a" in catalog and "zzz" not in catalog
    assert [s.id for s in catalog] == ["a", "b"]
    assert len(catalog) == 2
    assert catalog.ids() == ("a", "b")
    assert catalog.origin("a") == "/x.toml"
    assert catalog.origin("b") == "in-memory"


def test_unknown_id_lists_known_ids_and_guesses() -> None:
    catalog = Catalog([_spec("t2v-a14b"), _spec("ti2v-5b")])
    with pytest.raises(UnknownModelError) as info:
        catalog.get("t2v-a41b")
    err = info.value
    assert err.code == "model-unknown"
    assert err.message == "unknown model id 't2v-a41b'"
    assert err.hint == "Did you mean 't2v-a14b'? Known ids: t2v-a14b, ti2v-5b."
    with pytest.raises(UnknownModelError):
        catalog.origin("nope")


def test_empty_catalog_says_none_known() -> None:
    with pytest.raises(UnknownModelError) as info:
        Catalog().get("x")
    assert info.value.hint == "Known ids: none."


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(CatalogError, match="model id 'a' appears twice"):
        Catalog([_spec("a"), _spec("a")])
