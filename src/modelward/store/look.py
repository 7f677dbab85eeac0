"""Looks at the store kept between status reads, so a status read does not stat every file.

What a look is: for one model, its known target (the newest recorded manifest, filtered by
the entry's globs) and the state of each of its files (:class:`LocalModel`). Computing one
reads records and stats and readlinks every file; status reads come many times a second
(dashboards, 20 clients, a 20,000-entry catalog), so looks are kept per repository and
shared by every catalog entry of the same repo, revision and globs.

When a kept look is used again: its repository's *fingerprint* is unchanged. The
fingerprint is the stat of every directory a change of the look's facts goes through: the
blobs folder (a blob promoted, removed or renamed for repair), the snapshot folders of the
looks' commits (a link made or deleted), ``refs/``, the repo's records folder and its
``manifests/`` (verified, damaged and manifest records are replaced by rename) and its
partials folder (resume records). That catches every change modelward makes and every
change another process makes by creating, deleting or renaming a file (``hf download``,
``rm``, a repair); the stats cost microseconds. A change that touches no directory (a blob's
bytes modified in place by another program) is caught when the look expires, after
:data:`LOOK_TTL_S`. A directory changed in the same clock tick as the look was taken
could keep its mtime, so a look taken less than :data:`RACY_NS` after a directory last
changed is not kept (git's "racily clean" rule).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from modelward.catalog import ModelSpec
from modelward.sources import Target
from modelward.store.layout import RepoLayout

LOOK_TTL_S = 2.0
"""A kept look is taken again after this long, whatever the fingerprint says."""
RACY_NS = 50_000_000
"""A directory changed this close to a look may change again without a new mtime."""

_Stat = tuple[int, int, int] | None
Mode = tuple[bool, bool]
"""How unknown blobs are judged: ``(verify_unknown, changed_is_damaged)``."""
_Selection = tuple[str, tuple[str, ...], tuple[str, ...]]
L = TypeVar("L")


class NotKeptError(Exception):
    """A look asked for in :meth:`StoreLook.kept_only` is not kept: taking it reads the
    disk, which belongs in a worker thread."""


def _stat(path: Path) -> _Stat:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ino, st.st_size)


@dataclass
class _RepoLooks(Generic[L]):
    """What is kept of one repository, and the directory stats it is valid for."""

    stats: dict[Path, tuple[_Stat, int]] = field(default_factory=dict)
    """Each watched directory's stat, and the wall clock (ns) just before it was taken."""
    born: float = field(default_factory=time.monotonic)
    targets: dict[_Selection, Target | None] = field(default_factory=dict)
    locals: dict[tuple[_Selection, Mode], L] = field(default_factory=dict)
    facts: dict[tuple[str, str], object] = field(default_factory=dict)

    def watch(self, paths: Iterable[Path]) -> None:
        """Stat ``paths`` not watched yet (before the facts they guard are read)."""
        for path in paths:
            if path not in self.stats:
                taken = time.time_ns()
                self.stats[path] = (_stat(path), taken)

    def still_valid(self, now: float) -> bool:
        """True when no watched directory changed, none too close to its stat, and the
        looks are younger than the TTL."""
        if now - self.born > LOOK_TTL_S:
            return False
        for path, (seen, taken) in list(self.stats.items()):  # other threads add
            if _stat(path) != seen or (seen is not None and seen[0] >= taken - RACY_NS):
                return False
        return True


class StoreLook(Generic[L]):
    """Kept looks of every repository (thread-safe: status reads run in worker threads)."""

    def __init__(
        self,
        layout_of: Callable[[str], RepoLayout],
        find_target: Callable[[ModelSpec], Target | None],
        inspect: Callable[[Target, bool, bool], L],
    ) -> None:
        self._layout_of = layout_of
        self._find_target = find_target
        self._inspect = inspect
        self._repos: dict[str, _RepoLooks[L]] = {}
        self._checked: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.local()

    @contextlib.contextmanager
    def kept_only(self) -> Iterator[None]:
        """Within it (in this thread), a look that is not kept raises :class:`NotKeptError`
        instead of reading records and files: only directory stats run, cheap enough for
        the event loop."""
        self._thread.kept_only = True
        try:
            yield
        finally:
            self._thread.kept_only = False

    def _may_read(self) -> None:
        if getattr(self._thread, "kept_only", False):
            raise NotKeptError

    def invalidate(self, repo_id: str | None = None) -> None:
        """Forget the kept looks of ``repo_id`` (all when None): this process changed it."""
        with self._lock:
            if repo_id is None:
                self._repos.clear()
            else:
                self._repos.pop(repo_id, None)

    def local_commit(
        self, spec: ModelSpec, find: Callable[[], str | None], *, checked: bool = False
    ) -> str | None:
        """The commit the spec's revision points at locally (``find`` reads it)."""
        repo = self._repo(spec.repo, checked)
        key = ("commit", spec.revision)
        if key not in repo.facts:
            self._may_read()
            repo.watch(_base_dirs(self._layout_of(spec.repo), spec.revision))
            repo.facts[key] = find()
        commit: str | None = repo.facts[key]  # type: ignore[assignment]
        return commit

    def known_target(self, spec: ModelSpec, *, checked: bool = False) -> Target | None:
        """The spec's known target (``checked``: the repo was validated in this pass)."""
        shared = self._shared_target(self._repo(spec.repo, checked), spec)
        if shared is None:
            return None
        return dataclasses.replace(shared, model_id=spec.id, revision=spec.revision)

    def local(self, spec: ModelSpec, mode: Mode, *, checked: bool = False) -> L | None:
        """The look at the spec's known target in ``mode``, kept or taken now (None: the
        target is not known). Shared by the entries of the same repo, revision and globs:
        its target's ``model_id`` is empty."""
        repo = self._repo(spec.repo, checked)
        key = (_selection(spec), mode)
        kept = repo.locals.get(key)
        if kept is None:
            target = self._shared_target(repo, spec)
            if target is None:
                return None
            self._may_read()
            repo.watch(_snapshot_dirs(self._layout_of(spec.repo), target))
            kept = repo.locals[key] = self._inspect(target, *mode)
        return kept

    def _shared_target(self, repo: _RepoLooks[L], spec: ModelSpec) -> Target | None:
        key = _selection(spec)
        if key not in repo.targets:
            self._may_read()
            repo.watch(_base_dirs(self._layout_of(spec.repo), spec.revision))
            found = self._find_target(spec)
            repo.targets[key] = dataclasses.replace(found, model_id="") if found else None
        return repo.targets[key]

    def begin_pass(self) -> None:
        """Validate each repository once from now on (one read of many models)."""
        with self._lock:
            self._checked.clear()

    def _repo(self, repo_id: str, checked: bool) -> _RepoLooks[L]:
        with self._lock:
            repo = self._repos.get(repo_id)
            trusted = checked and repo_id in self._checked
            if repo is None or not (trusted or repo.still_valid(time.monotonic())):
                repo = self._repos[repo_id] = _RepoLooks[L]()
                repo.watch(_base_dirs(self._layout_of(repo_id), None))
            self._checked.add(repo_id)
            return repo


def _selection(spec: ModelSpec) -> _Selection:
    return (spec.revision, spec.include, spec.exclude)


def _base_dirs(layout: RepoLayout, revision: str | None) -> list[Path]:
    home_partials = layout.partial_record_path("x").parent
    dirs = [
        layout.blobs_dir,
        layout.repo_dir / "refs",
        layout.repo_dir / "snapshots",
        layout.records_dir,
        layout.records_dir / "manifests",
        home_partials,
    ]
    if revision is not None:
        dirs.append(layout.ref_path(revision).parent)
        dirs.append(layout.snapshot_dir(revision))  # a pinned commit needs no ref
    return dirs


def _snapshot_dirs(layout: RepoLayout, target: Target) -> set[Path]:
    return {layout.snapshot_path(target.commit, f.path).parent for f in target.files} | {
        layout.snapshot_dir(target.commit)
    }
