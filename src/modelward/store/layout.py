"""All path arithmetic of the store, which is the Hugging Face cache layout.

    <cache_dir>/
    ├── .locks/models--{org}--{name}/{blob}.lock      shared with huggingface_hub
    └── models--{org}--{name}/
        ├── blobs/{blob}                               sha256 (LFS) or git blob id
        ├── blobs/{blob}.modelward.incomplete          bytes still arriving, segment by segment
        ├── refs/{revision}                            holds a commit id
        └── snapshots/{commit}/{path}                  relative symlink to ../../blobs/{blob}

``{blob}`` is a file's etag as the Hub serves it: the sha256 of an LFS file, the git blob
id of a regular one. Nothing under ``snapshots/`` is ever partial or unverified: links are
made only after the blob they point at has been verified and renamed into place.

modelward's own data lives apart, under ``<home>``:

    <home>/records/models--{org}--{name}/manifests/{commit}.json   what a commit holds
    <home>/records/models--{org}--{name}/verified.json             stat of verified blobs
    <home>/records/models--{org}--{name}/blocks/{blob}.json        sha256 of each 16 MiB block
    <home>/partials/models--{org}--{name}/{blob}.json              resume state of a blob
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelward.sources.files import RepoPath


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    """The cache folder name of a repo, exactly as huggingface_hub names it."""
    return "--".join([f"{repo_type}s", *repo_id.split("/")])


@dataclass(frozen=True, slots=True)
class RepoLayout:
    """Paths of one repository inside the cache and inside modelward's home."""

    cache_dir: Path
    home: Path
    repo_id: str

    @property
    def folder(self) -> str:
        """The repo's folder name (``models--org--name``)."""
        return repo_folder_name(self.repo_id)

    @property
    def repo_dir(self) -> Path:
        """The repo's directory in the cache."""
        return self.cache_dir / self.folder

    @property
    def blobs_dir(self) -> Path:
        """Where verified blobs live."""
        return self.repo_dir / "blobs"

    def blob_path(self, blob_name: str) -> Path:
        """The verified blob named ``blob_name``."""
        return self.blobs_dir / blob_name

    def incomplete_path(self, blob_name: str) -> Path:
        """The partial file a blob is written to before verification.

        Not huggingface_hub's ``{blob}.incomplete``: ours is written at segment offsets and
        may have holes, which a tool resuming from the file's length would take as data.
        """
        return self.blobs_dir / f"{blob_name}.modelward.incomplete"

    def lock_path(self, blob_name: str) -> Path:
        """The lock file huggingface_hub also takes before writing this blob."""
        return self.cache_dir / ".locks" / self.folder / f"{blob_name}.lock"

    def ref_path(self, revision: str) -> Path:
        """The file holding the commit a revision (branch or tag) points at."""
        return self.repo_dir / "refs" / revision

    def snapshot_dir(self, commit: str) -> Path:
        """The directory of one commit's files."""
        return self.repo_dir / "snapshots" / commit

    def snapshot_path(self, commit: str, path: RepoPath) -> Path:
        """Where a file of a commit appears to users."""
        return self.snapshot_dir(commit) / path

    def link_target(self, path: RepoPath, blob_name: str) -> str:
        """The relative symlink target from a snapshot file to its blob."""
        depth = path.count("/") + 2  # up through the path's dirs, the commit and snapshots/
        return os.path.join(*([".."] * depth), "blobs", blob_name)

    @property
    def records_dir(self) -> Path:
        """modelward's records about this repo."""
        return self.home / "records" / self.folder

    def manifest_path(self, commit: str) -> Path:
        """The saved file list of a commit."""
        return self.records_dir / "manifests" / f"{commit}.json"

    @property
    def verified_path(self) -> Path:
        """The record of blobs verified so far, with their stat."""
        return self.records_dir / "verified.json"

    def block_table_path(self, blob_name: str) -> Path:
        """The per-block sha256 table of a verified blob."""
        return self.records_dir / "blocks" / f"{blob_name}.json"

    def partial_record_path(self, blob_name: str) -> Path:
        """The resume record of a blob still arriving (fsynced ranges)."""
        return self.home / "partials" / self.folder / f"{blob_name}.json"

    def partial_live_path(self, blob_name: str) -> Path:
        """The page-cache ranges of a blob still arriving, written without fsync."""
        return self.home / "partials" / self.folder / f"{blob_name}.live.json"
