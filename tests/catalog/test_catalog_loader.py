"""Loading order, overrides, and the exact messages for bad catalogs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.errors import CatalogError

WriteCatalog = Callable[[str, str], Path]
SHA = "ab" * 32
ENTRY = '[models.x]\nrepo = "org/x"\nrevision = "main"\n'
FIELDS = (
    "source, repo, revision, display_name, description, include, exclude, endpoint, mirrors, "
    "files, capabilities, quality_tier, relative_speed, vram_min_gb, vram_recommended_gb, "
    "expected_size_bytes"
)


def _error(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    return info.value


# --- order and overrides ---------------------------------------------------------------


def test_extra_file_overrides_builtin_entirely_and_adds(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "mine.toml",
        '[models.ti2v-5b]\nrepo = "me/fork"\nrevision = "v2"\n\n'
        '[models.my-model]\nrepo = "me/new"\nrevision = "main"\n',
    )
    catalog = load_catalog([path])
    assert catalog.ids() == ("t2v-a14b", "i2v-a14b", "ti2v-5b", "my-model")
    ti2v = catalog.get("ti2v-5b")
    assert (ti2v.repo, ti2v.revision) == ("me/fork", "v2")
    # The override replaces the whole entry: built-in figures do not leak through.
    assert ti2v.vram_min_gb is None and ti2v.capabilities.inputs == frozenset()
    assert catalog.origin("ti2v-5b") == str(path)
    assert catalog.origin("my-model") == str(path)
    assert catalog.origin("t2v-a14b") == "built-in"


def test_later_files_win_and_env_comes_last(write_catalog: WriteCatalog) -> None:
    first = write_catalog("1.toml", ENTRY.replace("main", "one"))
    second = write_catalog("2.toml", ENTRY.replace("main", "two"))
    env_a = write_catalog("3.toml", ENTRY.replace("main", "three"))
    env_b = write_catalog("4.toml", '[models.y]\nrepo = "org/y"\nrevision = "main"\n')
    env = {"MODELWARD_CATALOG": f"{env_a}{os.pathsep}{os.pathsep}{env_b}"}

    assert load_catalog([first, second]).get("x").revision == "two"
    catalog = load_catalog([first, second], env=env)
    assert catalog.get("x").revision == "three"
    assert catalog.origin("x") == str(env_a)
    assert catalog.ids()[-2:] == ("x", "y")


def test_env_is_only_read_from_the_mapping_given(
    write_catalog: WriteCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_catalog("env.toml", ENTRY)
    monkeypatch.setenv("MODELWARD_CATALOG", str(path))
    assert "x" not in load_catalog()
    assert "x" in load_catalog(env={"MODELWARD_CATALOG": str(path)})


def test_empty_file_adds_nothing(write_catalog: WriteCatalog) -> None:
    assert len(load_catalog([write_catalog("empty.toml", "# nothing yet\n")])) == 3


def test_url_entry_loads(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "url.toml",
        '[models.tiny]\nsource = "url"\nrepo = "local/tiny"\nrevision = "v1"\n\n'
        "[[models.tiny.files]]\n"
        f'path = "model.safetensors"\nurl = "https://example.org/m"\nsize_bytes = 1024\n'
        f'sha256 = "{SHA}"\n',
    )
    spec = load_catalog([path]).get("tiny")
    assert spec.source == "url"
    assert spec.files[0].path == "model.safetensors" and spec.files[0].size_bytes == 1024


# --- files that cannot be read or parsed -----------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = _error(tmp_path / "nope.toml")
    assert err.message == f"file {tmp_path / 'nope.toml'}: file not found"
    assert err.file == str(tmp_path / "nope.toml")
    assert "MODELWARD_CATALOG" in err.hint


def test_missing_file_named_by_env(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(env={"MODELWARD_CATALOG": str(tmp_path / "gone.toml")})


def test_directory_instead_of_file(tmp_path: Path) -> None:
    err = _error(tmp_path)
    assert err.message.startswith(f"file {tmp_path}: cannot read the file: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[models.x]\ndescription = "caf\xe9"\n')
    err = _error(path)
    assert err.message == (
        f"file {path}: not UTF-8 text (bad byte at offset 29); TOML files must be UTF-8"
    )


def test_toml_syntax_error_names_line_and_column(write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.toml", '[models.x]\nrepo = "org/x"\nrevision = \n')
    err = _error(path)
    assert err.message == f"file {path}: TOML syntax error at line 3, column 12: Invalid value"
    assert (err.entry, err.field) == (None, None)


def test_duplicate_id_in_one_file_is_a_syntax_error(write_catalog: WriteCatalog) -> None:
    path = write_catalog("dup.toml", ENTRY + "\n" + ENTRY)
    assert "TOML syntax error at line 5" in _error(path).message


# --- document shape --------------------------------------------------------------------


def test_unknown_top_level_key(write_catalog: WriteCatalog) -> None:
    path = write_catalog("top.toml", "version = 1\n" + ENTRY)
    assert _error(path).message == (
        f"file {path}: unknown top-level key 'version'; expected only [models.<id>] tables"
    )


def test_models_as_array_of_tables(write_catalog: WriteCatalog) -> None:
    path = write_catalog("arr.toml", '[[models]]\nrepo = "org/x"\n')
    assert _error(path).message == (
        f"file {path}: 'models' must be a table of [models.<id>] tables, got an array"
    )


def test_entry_that_is_not_a_table(write_catalog: WriteCatalog) -> None:
    path = write_catalog("scalar.toml", 'models.x = "org/x"\n')
    err = _error(path)
    assert err.message == f"file {path}, entry 'x': expected a table [models.x], got a string"
    assert err.entry == "x"


def test_id_field_is_refused(write_catalog: WriteCatalog) -> None:
    path = write_catalog("id.toml", ENTRY + 'id = "x"\n')
    err = _error(path)
    assert err.message == (
        f"file {path}, entry 'x', field 'id': remove it; the id is the table name [models.x]"
    )


def test_bad_id_as_table_name(write_catalog: WriteCatalog) -> None:
    path = write_catalog("id.toml", ENTRY.replace("models.x", "models.My_Model"))
    err = _error(path)
    assert (err.entry, err.field) == ("My_Model", "id")
    assert "expected a short slug" in err.message and "got 'My_Model'" in err.message


# --- field errors: file, entry and field named, and what is expected --------------------


@pytest.mark.parametrize(
    ("extra_lines", "field", "message"),
    [
        ("colour = 'red'", "colour", f"unknown field 'colour'; expected one of {FIELDS}"),
        (
            "quality_tier = 'ultra'",
            "quality_tier",
            "expected 'low', 'medium' or 'high', got 'ultra'",
        ),
        ("source = 'ftp'", "source", "expected 'hub' or 'url', got 'ftp'"),
        ("vram_min_gb = '24'", "vram_min_gb", "expected a number, got '24'"),
        ("vram_min_gb = true", "vram_min_gb", "expected a number, got true"),
        ("vram_min_gb = 0", "vram_min_gb", "expected a number greater than 0.0, got 0"),
        (
            "vram_min_gb = 24\nvram_recommended_gb = 12",
            "vram_recommended_gb",
            "expected at least vram_min_gb (24.0), got 12.0",
        ),
        ("relative_speed = -1.0", "relative_speed", "expected a number greater than 0.0, got -1.0"),
        ("expected_size_bytes = 1.5", "expected_size_bytes", "expected an integer, got 1.5"),
        ("expected_size_bytes = -1", "expected_size_bytes", "expected a number at least 0, got -1"),
        ("include = '*.json'", "include", 'expected an array like ["a", "b"], got \'*.json\''),
        (
            "include = ['/abs/*']",
            "include[0]",
            "expected a glob on repo-relative paths (no leading '/'), got '/abs/*'",
        ),
        (
            "endpoint = 'localhost:8080'",
            "endpoint",
            "expected an http:// or https:// URL, got 'localhost:8080'",
        ),
        ("display_name = 3", "display_name", "expected a string, got 3"),
        ("capabilities = 'fast'", "capabilities", "expected a table, got 'fast'"),
    ],
)
def test_field_errors(
    write_catalog: WriteCatalog, extra_lines: str, field: str, message: str
) -> None:
    path = write_catalog("bad.toml", ENTRY + extra_lines + "\n")
    err = _error(path)
    assert (err.file, err.entry, err.field) == (str(path), "x", field)
    assert err.message == f"file {path}, entry 'x', field '{field}': {message}"
    assert err.code == "catalog-invalid"
    assert "docs/CATALOG.md" in err.hint


def test_missing_required_field(write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.toml", '[models.x]\nrepo = "org/x"\n')
    assert _error(path).message == (
        f"file {path}, entry 'x', field 'revision': required field is missing"
    )


def test_bad_repo_and_revision(write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.toml", '[models.x]\nrepo = "just-a-name"\nrevision = "../up"\n')
    err = _error(path)
    assert err.field == "repo"
    assert err.message == (
        f"file {path}, entry 'x', field 'repo': expected a Hub repo id 'org/name' "
        "(like 'Wan-AI/Wan2.2-T2V-A14B'), got 'just-a-name' "
        "(also field 'revision': expected a branch, tag or 40-hex commit id, got '../up')"
    )


@pytest.mark.parametrize(
    ("capabilities", "field", "message"),
    [
        (
            "foo = 1",
            "capabilities.foo",
            "unknown field 'foo'; expected one of inputs, required_inputs, outputs, resolutions, "
            "frame_rate_fps",
        ),
        ("inputs = ['audio']", "capabilities.inputs[0]", "expected 'text' or 'image', got 'audio'"),
        (
            "outputs = ['text']",
            "capabilities.outputs[0]",
            "expected 'video' or 'image', got 'text'",
        ),
        (
            "resolutions = ['720p']",
            "capabilities.resolutions[0]",
            "expected WIDTHxHEIGHT in pixels (like '1280x720'), got '720p'",
        ),
        (
            "frame_rate_fps = 23.976",
            "capabilities.frame_rate_fps",
            "expected an integer, got 23.976",
        ),
        (
            "inputs = ['text']\nrequired_inputs = ['image']",
            "capabilities.required_inputs",
            "expected a subset of inputs, but ['image'] are not in inputs",
        ),
    ],
)
def test_capability_errors(
    write_catalog: WriteCatalog, capabilities: str, field: str, message: str
) -> None:
    path = write_catalog("bad.toml", ENTRY + "\n[models.x.capabilities]\n" + capabilities + "\n")
    err = _error(path)
    assert err.field == field
    assert err.message == f"file {path}, entry 'x', field '{field}': {message}"


URL_ENTRY = '[models.u]\nsource = "url"\nrepo = "local/u"\nrevision = "v1"\n'


def _url_file(**overrides: object) -> str:
    fields: dict[str, object] = {
        "path": "a.bin",
        "url": "https://example.org/a",
        "size_bytes": 1,
        "sha256": SHA,
    }
    fields.update(overrides)
    lines = (f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in fields.items())
    return "\n[[models.u.files]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("file_overrides", "field", "message"),
    [
        (
            {"sha256": "ABC"},
            "files[0].sha256",
            "expected 64 lowercase hex digits (a sha256), got 'ABC'",
        ),
        (
            {"sha256": SHA.upper()},
            "files[0].sha256",
            f"expected 64 lowercase hex digits (a sha256), got '{SHA.upper()}'",
        ),
        (
            {"path": "../../etc/passwd"},
            "files[0].path",
            "expected a safe repo-relative path, got '../../etc/passwd' "
            "(empty, '.' or '..' component)",
        ),
        (
            {"path": "/abs"},
            "files[0].path",
            "expected a safe repo-relative path, got '/abs' (absolute)",
        ),
        (
            {"url": "file:///etc/passwd"},
            "files[0].url",
            "expected an http:// or https:// URL, got 'file:///etc/passwd'",
        ),
        ({"size_bytes": 0}, "files[0].size_bytes", "expected a number greater than 0, got 0"),
        (
            {"mode": 1},
            "files[0].mode",
            "unknown field 'mode'; expected one of path, url, size_bytes, sha256",
        ),
    ],
)
def test_url_file_errors(
    write_catalog: WriteCatalog, file_overrides: dict[str, object], field: str, message: str
) -> None:
    path = write_catalog("bad.toml", URL_ENTRY + _url_file(**file_overrides))
    err = _error(path)
    assert (err.entry, err.field) == ("u", field)
    assert err.message == f"file {path}, entry 'u', field '{field}': {message}"


def test_url_entry_without_files(write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.toml", URL_ENTRY)
    assert _error(path).message == (
        f"file {path}, entry 'u', field 'files': "
        "a source = 'url' entry needs at least one [[models.<id>.files]]"
    )


def test_hub_entry_with_files(write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.toml", ENTRY + _url_file().replace("models.u", "models.x"))
    assert _error(path).message == (
        f"file {path}, entry 'x', field 'files': "
        "only for source = 'url'; a 'hub' entry gets its files from the Hub"
    )


def test_url_entry_with_hub_only_fields(write_catalog: WriteCatalog) -> None:
    text = URL_ENTRY + 'include = ["*.bin"]\nendpoint = "https://hf.co"\n' + _url_file()
    err = _error(write_catalog("bad.toml", text))
    assert err.field == "include"
    assert "only for source = 'hub'; a 'url' entry lists its files instead" in err.message
    assert "field 'endpoint': only for source = 'hub'" in err.message


def test_error_in_second_file_names_that_file(write_catalog: WriteCatalog) -> None:
    good = write_catalog("good.toml", ENTRY)
    bad = write_catalog("bad.toml", ENTRY.replace("org/x", "nope"))
    with pytest.raises(CatalogError) as info:
        load_catalog([good, bad])
    assert info.value.file == str(bad)
