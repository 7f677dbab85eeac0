"""The repos a hub serves: their commits, the ``main`` branch, gating, and new commits."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelward.devhub.manifest import ManifestFile, RepoManifest
from modelward.devhub.materialise import materialise
from modelward.devhub.shapes import WAN_REPOS, RepoShape


@dataclass
class RepoState:
    """One repo: every commit it ever had, its branches and its gate token."""

    shape: RepoShape
    commits: dict[str, RepoManifest] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    revision: int = 0
    gate_token: str | None = None


def shape_for(repo: RepoShape | str) -> RepoShape:
    """The shape of ``repo``; a string must name one of ``WAN_REPOS``."""
    if isinstance(repo, RepoShape):
        return repo
    for shape in WAN_REPOS:
        if shape.repo_id == repo:
            return shape
    raise KeyError(f"no built-in shape for {repo!r}; pass a RepoShape")


class RepoRegistry:
    """Materialises repos under ``root`` and answers which bytes a revision/path means."""

    def __init__(
        self,
        root: Path,
        total_bytes: int,
        seed: int,
        repos: Iterable[RepoShape | str],
        gated: Mapping[str, str],
    ) -> None:
        self.root = root
        self.total_bytes = total_bytes
        self.seed = seed
        self._lock = threading.Lock()
        self.repos: dict[str, RepoState] = {}
        for repo in repos:
            shape = shape_for(repo)
            self.repos[shape.repo_id] = RepoState(shape, gate_token=gated.get(shape.repo_id))
        self._by_sha256: dict[str, ManifestFile] = {}

    def load(self) -> None:
        """Generate (or reuse) every repo's first commit. Blocking: run it off the loop."""
        for state in self.repos.values():
            if not state.commits:
                self._add(state, materialise(self.root, state.shape, self.total_bytes, self.seed))

    def _add(self, state: RepoState, manifest: RepoManifest) -> None:
        with self._lock:
            state.commits[manifest.commit] = manifest
            state.branches["main"] = manifest.commit
            for entry in manifest.files:
                if entry.sha256 is not None:
                    self._by_sha256[entry.sha256] = entry

    def bump_commit(self, repo_id: str) -> str:
        """Make a new commit on ``main`` (a config and one shard change); return its sha."""
        state = self.repos[repo_id]
        revision = state.revision + 1
        parent = state.branches["main"]
        manifest = materialise(
            self.root, state.shape, self.total_bytes, self.seed, revision, parent
        )
        state.revision = revision
        self._add(state, manifest)
        return manifest.commit

    def manifest(self, repo_id: str, revision: str = "main") -> RepoManifest:
        """The manifest of ``revision`` (branch or commit sha); KeyError if unknown."""
        state = self.repos[repo_id]
        commit = state.branches.get(revision, revision)
        return state.commits[commit]

    def lfs_object(self, sha256: str) -> ManifestFile | None:
        """The LFS file with this sha256, from any repo or commit."""
        return self._by_sha256.get(sha256)
