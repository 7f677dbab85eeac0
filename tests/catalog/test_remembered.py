"""Remembered entries: a Hub repo pulled by name becomes an entry every command takes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modelward.catalog import Catalog, load_catalog
from modelward.catalog.catalog import REMEMBERED_ORIGIN
from modelward.catalog.remembered import (
    RememberedEntries,
    RepoRequest,
    derive_id,
    looks_like_repo,
    remembered_path,
)
from modelward.errors import CatalogError

TI2V_REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"


@pytest.fixture
def entries(tmp_path: Path) -> RememberedEntries:
    return RememberedEntries.in_home(tmp_path / "home")


def _catalog(entries: RememberedEntries, *extra: Path) -> Catalog:
    return load_catalog(list(extra), env={}, remembered=entries.path)


def test_id_is_derived_from_the_name_lower_case_and_unique() -> None:
    assert derive_id(TI2V_REPO, ()) == "wan2.2-ti2v-5b-diffusers"
    assert derive_id("Org/Name With+Odd", ()) == "name-with-odd"
    taken = {"wan2.2-ti2v-5b-diffusers"}
    assert derive_id(TI2V_REPO, taken) == "wan-ai-wan2.2-ti2v-5b-diffusers"
    taken.add("wan-ai-wan2.2-ti2v-5b-diffusers")
    assert derive_id(TI2V_REPO, taken) == "wan-ai-wan2.2-ti2v-5b-diffusers-2"
    long_name = "a/" + "B" * 96
    assert len(derive_id(long_name, {"b" * 64, "a-" + "b" * 62})) <= 64


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("../x", "repo_id"),
        ("a/b/c", "repo_id"),
        ("/etc/passwd", "repo_id"),
        ("org/..", "repo_id"),
        ("org/na--me", "repo_id"),
        ("org/name@../../refs", "revision"),
        ("org/name@", "revision"),
        ("org/name@main/", "revision"),
    ],
)
def test_hostile_repo_ids_and_revisions_are_refused(text: str, field: str) -> None:
    with pytest.raises(CatalogError) as caught:
        RepoRequest.parse(text)
    assert caught.value.field == field
    assert "ORG/NAME" in caught.value.hint


@pytest.mark.parametrize("glob", ["", "/abs/*", "a\nb", "x" * 300])
def test_bad_globs_are_refused(glob: str) -> None:
    with pytest.raises(CatalogError) as caught:
        RepoRequest.parse("org/name", include=[glob])
    assert caught.value.field == "include"


def test_a_request_keeps_revision_and_globs() -> None:
    request = RepoRequest.parse("org/name@v1.0", include=["*.json"], exclude=["vae/*"])
    assert request == RepoRequest("org/name", "v1.0", ("*.json",), ("vae/*",))
    assert request.explicit
    assert not RepoRequest.parse("org/name").explicit
    assert looks_like_repo("org/name") and looks_like_repo("x@main")
    assert not looks_like_repo("ti2v-5b")


def test_a_new_repo_becomes_an_entry_the_loader_reads_back(entries: RememberedEntries) -> None:
    catalog = _catalog(entries)
    made = entries.remember(catalog, RepoRequest.parse("acme/Tiny-Video", include=["*.json"]))
    assert made.created and made.spec.id == "tiny-video"
    assert made.spec.include == ("*.json",) and made.spec.revision == "main"
    assert catalog.get("tiny-video") == made.spec  # the running catalog has it at once
    assert entries.path == remembered_path(entries.path.parent.parent)
    table = tomllib.loads(entries.path.read_text())["models"]["tiny-video"]
    assert table["repo"] == "acme/Tiny-Video" and table["include"] == ["*.json"]

    reloaded = _catalog(entries)
    assert reloaded.get("tiny-video") == made.spec
    assert reloaded.origin("tiny-video") == REMEMBERED_ORIGIN
    again = entries.remember(reloaded, RepoRequest.parse("acme/Tiny-Video", include=["*.json"]))
    assert not again.created and again.spec == made.spec


def test_a_repo_the_catalog_names_maps_to_that_entry(entries: RememberedEntries) -> None:
    catalog = _catalog(entries)
    for text in (TI2V_REPO, TI2V_REPO.lower(), TI2V_REPO + "@main"):
        found = entries.remember(catalog, RepoRequest.parse(text))
        assert found.spec.id == "ti2v-5b" and not found.created
    assert not entries.path.exists()  # nothing to remember
    assert len(catalog) == 3


def test_another_selection_of_a_remembered_repo_gets_its_own_entry(
    entries: RememberedEntries,
) -> None:
    catalog = _catalog(entries)
    json_only = entries.remember(catalog, RepoRequest.parse(TI2V_REPO, include=["*.json"]))
    assert json_only.created and json_only.spec.id == "wan2.2-ti2v-5b-diffusers"
    # Pulled again with other globs: a second entry; the first keeps what it selected (its
    # files stay owned, and a job running under its id keeps its spec).
    wider = entries.remember(catalog, RepoRequest.parse(TI2V_REPO, include=["*.json", "*.txt"]))
    assert wider.created and wider.spec.id == "wan2.2-ti2v-5b-diffusers-2"
    assert wider.spec.include == ("*.json", "*.txt")
    assert "only *.json, *.txt" in (wider.spec.description or "")
    reloaded = _catalog(entries)
    assert reloaded.get(json_only.spec.id).include == ("*.json",)
    assert reloaded.get(wider.spec.id).include == ("*.json", "*.txt")
    # Each selection asked again is its own entry, not a third one.
    again = entries.remember(reloaded, RepoRequest.parse(TI2V_REPO, include=["*.json"]))
    assert not again.created and again.spec.id == json_only.spec.id
    # Without globs the repo is the catalog's own entry, as declared.
    assert entries.remember(catalog, RepoRequest.parse(TI2V_REPO)).spec.id == "ti2v-5b"


def test_a_remembered_repo_pulled_whole_is_a_second_entry(
    entries: RememberedEntries,
) -> None:
    catalog = _catalog(entries)
    part = entries.remember(catalog, RepoRequest.parse("acme/tiny", include=["*.json"]))
    whole = entries.remember(catalog, RepoRequest.parse("acme/tiny"))
    assert whole.created and whole.spec.id == "tiny-2" and whole.spec.include == ()
    assert catalog.get(part.spec.id).include == ("*.json",)
    assert "modelward" not in (whole.spec.description or "")  # no command lines down here


def test_entries_another_process_remembered_are_seen(entries: RememberedEntries) -> None:
    mine, theirs = _catalog(entries), _catalog(entries)
    entries.remember(theirs, RepoRequest.parse("acme/one"))
    second = entries.remember(mine, RepoRequest.parse("other/one"))
    assert second.spec.id == "other-one"  # "one" is taken by the other process's entry
    assert {"one", "other-one"} <= set(mine.ids())


def test_a_catalog_entry_that_takes_the_id_later_wins(
    entries: RememberedEntries, tmp_path: Path
) -> None:
    entries.remember(_catalog(entries), RepoRequest.parse("acme/tiny"))
    mine = tmp_path / "mine.toml"
    mine.write_text('[models.tiny]\nrepo = "someone/else"\nrevision = "main"\n')
    catalog = _catalog(entries, mine)
    assert catalog.get("tiny").repo == "someone/else"
    assert catalog.origin("tiny") == str(mine)


def test_a_damaged_remembered_file_is_named_in_the_error(entries: RememberedEntries) -> None:
    entries.path.parent.mkdir(parents=True)
    entries.path.write_text("[models.x\n")
    with pytest.raises(CatalogError) as caught:
        _catalog(entries)
    assert str(entries.path) in caught.value.message
