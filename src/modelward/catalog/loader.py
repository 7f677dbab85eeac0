"""Load the catalog: the built-in entries, then extra files, then ``MODELWARD_CATALOG``.

A catalog file is TOML with one table per model, keyed by id::

    [models.t2v-a14b]
    repo = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
    revision = "main"

A later entry with the same id replaces the earlier one entirely (no field merging, so
what a file says is exactly what you get); new ids are added after the known ones.
Anything malformed is refused with a :class:`CatalogError` naming the file, the entry and
the field, and saying what was expected. See docs/CATALOG.md.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from modelward.catalog.catalog import BUILTIN_ORIGIN, REMEMBERED_ORIGIN, Catalog
from modelward.catalog.spec import Capabilities, ModelSpec, UrlFile
from modelward.errors import CatalogError
from modelward.units import format_size

try:  # tomli is the parser the standard library's tomllib was taken from, compiled: it
    # reads a 20,000-entry catalog in half the time (issue 16, finding 13)
    import tomli as tomllib
except ModuleNotFoundError:  # pragma: no cover (tomli is a dependency; tomllib parses alike)
    import tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

ENV_VAR = "MODELWARD_CATALOG"
MAX_CATALOG_BYTES = 4 * 1000 * 1000
"""The largest catalog file read: 20,000 entries fit in 2 MB; anything bigger (or endless,
like /dev/zero) is refused after this much, never read whole."""
_BUILTIN_RESOURCE = "builtin.toml"
_TOP_LEVEL_KEYS = ("models",)
_TOML_POSITION_RE = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
# Which model a nested field belongs to, so "unknown field" can list the right choices.
_NESTED_MODELS: dict[str, type[BaseModel]] = {"capabilities": Capabilities, "files": UrlFile}


def load_catalog(
    extra_paths: Sequence[Path] = (),
    *,
    env: Mapping[str, str] | None = None,
    remembered: Path | None = None,
) -> Catalog:
    """Build the catalog: built-in, then ``extra_paths``, then ``env``'s MODELWARD_CATALOG,
    then the ``remembered`` entries (repos pulled by name) whose ids are still free.

    ``MODELWARD_CATALOG`` holds paths separated by ``os.pathsep``. A later entry with a
    known id replaces the earlier one entirely. ``env=None`` reads no environment at all.
    """
    specs: dict[str, ModelSpec] = {}
    origins: dict[str, str] = {}
    builtin = resources.files("modelward.catalog").joinpath(_BUILTIN_RESOURCE).read_bytes()
    _merge(specs, origins, parse_catalog(builtin, origin=BUILTIN_ORIGIN), BUILTIN_ORIGIN)
    for path in (*extra_paths, *catalog_paths_from_env(env or {})):
        _merge(specs, origins, parse_catalog(_read(path), origin=str(path)), str(path))
    if remembered is not None and remembered.is_file():
        _add_remembered(specs, origins, parse_catalog(_read(remembered), origin=str(remembered)))
    return Catalog(specs.values(), origins=origins)


def _add_remembered(
    specs: dict[str, ModelSpec], origins: dict[str, str], remembered: tuple[ModelSpec, ...]
) -> None:
    # What a person declared wins: a remembered entry never replaces a catalog entry that
    # took its id after it was remembered.
    for spec in remembered:
        if spec.id in specs:
            logger.info("remembered entry %s is hidden by %s", spec.id, origins[spec.id])
            continue
        specs[spec.id] = spec
        origins[spec.id] = REMEMBERED_ORIGIN


def catalog_paths_from_env(env: Mapping[str, str]) -> tuple[Path, ...]:
    """The catalog files named by ``MODELWARD_CATALOG`` in ``env``, in order."""
    raw = env.get(ENV_VAR, "")
    return tuple(Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip())


def parse_catalog(document: bytes | str, *, origin: str) -> tuple[ModelSpec, ...]:
    """Parse and validate one catalog document; ``origin`` names it in errors."""
    text = document.decode("utf-8") if isinstance(document, bytes) else document
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(_describe_toml_error(exc), file=origin) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables by recursion.
        raise CatalogError(
            "arrays or inline tables are nested too deeply to be a catalog", file=origin
        ) from None
    models = _models_table(data, origin)
    return tuple(_parse_entry(entry_id, raw, origin) for entry_id, raw in models.items())


def _read(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CATALOG_BYTES + 1)
    except FileNotFoundError:
        raise CatalogError(
            "file not found",
            file=str(path),
            hint=f"Check the path given with --catalog or in {ENV_VAR}.",
        ) from None
    except OSError as exc:
        raise CatalogError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from None
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError(
            f"larger than {format_size(MAX_CATALOG_BYTES)}, far more than a catalog needs; "
            "it was not read",
            file=str(path),
            hint="Give --catalog (or MODELWARD_CATALOG) the catalog's TOML file.",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"not UTF-8 text (bad byte at offset {exc.start}); TOML files must be UTF-8",
            file=str(path),
        ) from None


def _merge(
    specs: dict[str, ModelSpec],
    origins: dict[str, str],
    new: tuple[ModelSpec, ...],
    origin: str,
) -> None:
    for spec in new:
        if spec.id in specs:
            logger.info("catalog entry %s from %s overrides %s", spec.id, origin, origins[spec.id])
        specs[spec.id] = spec
        origins[spec.id] = origin


def _describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError has no lineno attribute; the position is in the text.
    match = _TOML_POSITION_RE.match(str(exc))
    if match is None:
        return f"TOML syntax error: {exc}"
    return f"TOML syntax error at line {match['line']}, column {match['col']}: {match['msg']}"


def _models_table(data: dict[str, Any], origin: str) -> dict[str, Any]:
    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            raise CatalogError(
                f"unknown top-level key '{key}'; expected only [models.<id>] tables",
                file=origin,
            )
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise CatalogError(
            f"'models' must be a table of [models.<id>] tables, got {_toml_type(models)}",
            file=origin,
        )
    return models


def _parse_entry(entry_id: str, raw: object, origin: str) -> ModelSpec:
    if not isinstance(raw, dict):
        raise CatalogError(
            f"expected a table [models.{entry_id}], got {_toml_type(raw)}",
            file=origin,
            entry=entry_id,
        )
    if "id" in raw:
        raise CatalogError(
            f"remove it; the id is the table name [models.{entry_id}]",
            file=origin,
            entry=entry_id,
            field="id",
        )
    try:
        return ModelSpec.model_validate({"id": entry_id, **raw})
    except ValidationError as exc:
        raise _translate(exc, origin, entry_id) from None


def _translate(exc: ValidationError, origin: str, entry_id: str) -> CatalogError:
    problems: dict[str, str] = {}
    for err in exc.errors():
        # One problem per field: the first says enough, repeats only add noise.
        problems.setdefault(_field_name(err["loc"]), _describe(err))
    (field, message), *others = problems.items()
    if others:
        also = "; ".join(f"field '{f}': {m}" for f, m in others)
        message = f"{message} (also {also})"
    return CatalogError(message, file=origin, entry=entry_id, field=field)


def _field_name(loc: tuple[int | str, ...]) -> str:
    # ("files", 1, "sha256") -> "files[1].sha256"; list indexes are kept so the reader
    # can find the offending item.
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return name


_EXPECTED_BY_TYPE = {
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "tuple_type": 'expected an array like ["a", "b"]',
    "list_type": 'expected an array like ["a", "b"]',
    "frozen_set_type": 'expected an array like ["a", "b"]',
    "model_type": "expected a table",
    "dict_type": "expected a table",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _describe(err: ErrorDetails) -> str:
    kind, loc, ctx = err["type"], err["loc"], err.get("ctx", {})
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_fields(loc[:-1]))
        return f"unknown field '{loc[-1]}'; expected one of {allowed}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        expected = f"expected a number {words} {ctx[key]}"
    elif kind in _EXPECTED_BY_TYPE:
        expected = _EXPECTED_BY_TYPE[kind]
    else:
        # e.g. literal_error: "Input should be 'hub' or 'url'".
        expected = re.sub(r"^Input should be", "expected", err["msg"])
    return f"{expected}, got {_show(err['input'])}"


def _allowed_fields(parent: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = ModelSpec
    names = [p for p in parent if isinstance(p, str)]
    if names and names[0] in _NESTED_MODELS:
        model = _NESTED_MODELS[names[0]]
    # The id is written as the table name, never as a field.
    return [name for name in model.model_fields if not (model is ModelSpec and name == "id")]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = repr(value) if not isinstance(value, dict) else "a table"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _toml_type(value: object) -> str:
    names = {
        list: "an array",
        dict: "a table",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }
    return names.get(type(value), "a date or time")
