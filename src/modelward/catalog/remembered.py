"""Remembered entries: Hub repos pulled by name (``modelward pull ORG/NAME``).

A repo pulled as ``ORG/NAME[@REVISION] [--include GLOB]... [--exclude GLOB]...`` needs no
catalog entry: it becomes an entry kept in ``MODELWARD_HOME/catalog/remembered.toml`` (the
catalog format, so a person can read it), which the loader reads after the built-in and
user catalogs, so every command takes its id. Which entry a request means:

1. an entry of the same repo with exactly the requested revision and globs;
2. with no revision and no globs given: the first catalog entry of the repo, as declared
   (``pull Wan-AI/Wan2.2-TI2V-5B-Diffusers`` is ``ti2v-5b``);
3. else a new remembered entry whose id is derived from the repo's name
   (``wan2.2-ti2v-5b-diffusers``), made unique. Another selection of a repo already
   remembered gets its own entry (``wan2.2-ti2v-5b-diffusers-2``): rewriting the first one
   would leave the files it fetched owned by no entry and change a running job's spec.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
from pydantic import TypeAdapter, ValidationError

from modelward.catalog.catalog import REMEMBERED_ORIGIN, Catalog
from modelward.catalog.loader import parse_catalog
from modelward.catalog.spec import Glob, ModelSpec, RepoId, Revision
from modelward.errors import CatalogError, StoreLockedError

DEFAULT_REVISION = "main"
LOCK_TIMEOUT_S = 30.0
MAX_GLOBS = 64
MAX_GLOB_CHARS = 256
_ID_MAX_CHARS = 64
_NOT_ID_CHARS = re.compile(r"[^a-z0-9._-]+")
_FORM = "ORG/NAME or ORG/NAME@REVISION (like Wan-AI/Wan2.2-TI2V-5B-Diffusers@main)"
_REPO_HINT = f"Give a Hub repo as {_FORM}."
_GLOB_HINT = "Give globs on paths inside the repo, like '*.json' or 'vae/*'."
_HEADER = (
    "# Hub repos pulled by name ('modelward pull ORG/NAME'), remembered so every command\n"
    "# takes their ids. Written by modelward; a catalog file (--catalog) is the place for\n"
    "# entries of your own. Format: docs/CATALOG.md.\n"
)


@dataclass(frozen=True)
class RepoRequest:
    """A Hub repo asked for by name, with the revision and file globs wanted."""

    repo: str
    revision: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, text: str, include: Sequence[str] = (), exclude: Sequence[str] = ()
    ) -> RepoRequest:
        """Validate ``ORG/NAME[@REVISION]`` and the globs; CatalogError says what is wrong."""
        repo, _, revision = text.strip().partition("@")
        return cls.validated(repo, revision if "@" in text else None, include, exclude)

    @classmethod
    def validated(
        cls,
        repo: str,
        revision: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> RepoRequest:
        """A request whose every part was checked, so nothing hostile reaches a path or URL."""
        return cls(
            _check(RepoId, repo, "repo_id", _REPO_HINT),
            None if revision is None else _check(Revision, revision, "revision", _REPO_HINT),
            _check_globs(include, "include"),
            _check_globs(exclude, "exclude"),
        )

    @property
    def explicit(self) -> bool:
        """Whether a revision or globs were given (else: the repo as its entry declares)."""
        return self.revision is not None or bool(self.include or self.exclude)

    @property
    def selection(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """Revision and globs as an entry would hold them."""
        return (self.revision or DEFAULT_REVISION, self.include, self.exclude)


@dataclass(frozen=True)
class Remembered:
    """The entry a request means, and whether it was made just now."""

    spec: ModelSpec
    created: bool = False


def looks_like_repo(argument: str) -> bool:
    """Whether a command-line argument names a Hub repo rather than a catalog id (ids
    never hold '/' or '@')."""
    return "/" in argument or "@" in argument


def remembered_path(home: Path) -> Path:
    """Where the remembered entries of ``home`` (MODELWARD_HOME) are kept."""
    return home / "catalog" / "remembered.toml"


class RememberedEntries:
    """The remembered-entries file of one MODELWARD_HOME, shared by every process."""

    def __init__(self, path: Path, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.lock_timeout_s = lock_timeout_s

    @classmethod
    def in_home(cls, home: Path) -> RememberedEntries:
        """The file of ``home``."""
        return cls(remembered_path(home))

    def remember(
        self, catalog: Catalog, request: RepoRequest, *, endpoint: str | None = None
    ) -> Remembered:
        """The entry ``request`` means in ``catalog``; a new remembered entry is saved and
        put into ``catalog`` (``endpoint``: the default hub, whose repos these are)."""
        with self._locked():
            on_disk = self._load()
            _refresh(catalog, on_disk)
            found = choose_entry(catalog, request, endpoint)
            if found is not None:
                return found
            spec = self._new(catalog, on_disk, request)
            on_disk[spec.id] = spec
            self._save(on_disk)
        catalog.put(spec, origin=REMEMBERED_ORIGIN)
        return Remembered(spec, created=True)

    def _new(
        self, catalog: Catalog, on_disk: dict[str, ModelSpec], request: RepoRequest
    ) -> ModelSpec:
        taken = {*catalog.ids(), *on_disk}
        remembered = [s.id for s in on_disk.values() if s.repo.lower() == request.repo.lower()]
        # Another selection of a remembered repo: its first id with a number, so both read
        # as the same repo.
        model_id = _numbered(remembered[0], taken) if remembered else derive_id(request.repo, taken)
        revision, include, exclude = request.selection
        return ModelSpec.model_validate(
            {
                "id": model_id,
                "repo": request.repo,
                "revision": revision,
                "include": include,
                "exclude": exclude,
                "display_name": request.repo,
                "description": _describe(request),
            }
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=self.lock_timeout_s)
        except filelock.Timeout:
            raise StoreLockedError(
                f"{self.path} has been locked by another modelward process for "
                f"{self.lock_timeout_s:.0f} s",
                hint="Another command is remembering a Hub repo; run this one again once "
                "it is done.",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _load(self) -> dict[str, ModelSpec]:
        if not self.path.is_file():
            return {}
        text = self.path.read_text(encoding="utf-8")
        return {spec.id: spec for spec in parse_catalog(text, origin=str(self.path))}

    def _save(self, entries: dict[str, ModelSpec]) -> None:
        text = _HEADER + "".join("\n" + entry_toml(spec) for spec in entries.values())
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".remembered-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def choose_entry(
    catalog: Catalog, request: RepoRequest, endpoint: str | None = None
) -> Remembered | None:
    """The entry ``request`` means by the rules in the module docstring (None: a new one
    is needed)."""
    named = [s for s in catalog.named_repo(request.repo) if s.endpoint in (None, endpoint)]
    for spec in named:
        if (spec.revision, spec.include, spec.exclude) == request.selection:
            return Remembered(spec)
    declared = [s for s in named if catalog.origin(s.id) != REMEMBERED_ORIGIN]
    if declared and not request.explicit:
        return Remembered(declared[0])
    return None


def derive_id(repo: str, taken: Collection[str]) -> str:
    """A catalog id for ``repo`` from its name, lower-case and safe, not in ``taken``:
    the name, else org and name, else that with a number."""
    org, _, name = repo.partition("/")
    candidates = [_slug(name), _slug(f"{org}-{name}")]
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    return _numbered(candidates[-1], taken)


def _numbered(model_id: str, taken: Collection[str]) -> str:
    stem = model_id[: _ID_MAX_CHARS - 4].rstrip("._-")
    number = 2
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def _describe(request: RepoRequest) -> str:
    revision, include, exclude = request.selection
    parts = [f"Hub repo {request.repo} at {revision}, remembered when pulled by name"]
    parts += [f"only {', '.join(include)}"] if include else []
    parts += [f"without {', '.join(exclude)}"] if exclude else []
    return "; ".join(parts)


def entry_toml(spec: ModelSpec) -> str:
    """``spec`` as a catalog table (the fields a remembered entry holds)."""
    lines = [f"[models.{_toml_str(spec.id)}]"]
    for field in ("display_name", "description", "repo", "revision"):
        value = getattr(spec, field)
        if value is not None:
            lines.append(f"{field} = {_toml_str(value)}")
    for field in ("include", "exclude"):
        values: tuple[str, ...] = getattr(spec, field)
        if values:
            lines.append(f"{field} = [{', '.join(_toml_str(v) for v in values)}]")
    return "\n".join(lines) + "\n"


def _refresh(catalog: Catalog, on_disk: dict[str, ModelSpec]) -> None:
    # Another process (the service, another shell) may have remembered entries since this
    # catalog was loaded; a catalog entry of the same id still wins.
    for spec in on_disk.values():
        if spec.id not in catalog or catalog.origin(spec.id) == REMEMBERED_ORIGIN:
            catalog.put(spec, origin=REMEMBERED_ORIGIN)


def _slug(text: str) -> str:
    slug = _NOT_ID_CHARS.sub("-", text.lower()).strip("._-")
    return slug[:_ID_MAX_CHARS].rstrip("._-") or "repo"


def _toml_str(value: str) -> str:
    # JSON's escapes (quote, backslash, \\u with four hex digits; ASCII only) are all
    # valid in TOML basic strings.
    return json.dumps(value, ensure_ascii=True)


def _check(kind: Any, value: str, field: str, hint: str) -> str:
    try:
        checked: str = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        detail = str(exc.errors()[0].get("ctx", {}).get("error", ""))
        raise CatalogError(detail or f"{value!r} is refused", field=field, hint=hint) from None
    return checked


def _check_globs(patterns: Sequence[str], field: str) -> tuple[str, ...]:
    if len(patterns) > MAX_GLOBS:
        raise CatalogError(
            f"{len(patterns)} patterns; at most {MAX_GLOBS} are accepted", field=field
        )
    for pattern in patterns:
        if len(pattern) > MAX_GLOB_CHARS or any(ord(c) < 0x20 or c == "\x7f" for c in pattern):
            raise CatalogError(
                f"{pattern[:40]!r} is refused: expected a glob of at most {MAX_GLOB_CHARS} "
                "printable characters",
                field=field,
                hint=_GLOB_HINT,
            )
        _check(Glob, pattern, field, _GLOB_HINT)
    return tuple(patterns)
