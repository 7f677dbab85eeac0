"""Write a synthetic repo's files to disk once, hashing while writing, and reuse them.

Layout under the root (content-addressed, so commits share unchanged files)::

    root/
      objects/{sha256[:2]}/{sha256}          file bytes
      manifests/{org}--{name}/{bytes}-s{seed}-r{revision}.json
      tmp/                                   files being written
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from modelward.devhub.manifest import (
    ManifestFile,
    RepoManifest,
    commit_sha,
    dump_manifest,
    git_blob_oid,
    is_lfs_path,
    lfs_pointer,
    load_manifest,
)
from modelward.devhub.shapes import FileSpec, RepoShape, plan_files
from modelward.devhub.synth import BLOCK_BYTES, ByteSynth

logger = logging.getLogger(__name__)


def manifest_path(root: Path, repo_id: str, total_bytes: int, seed: int, revision: int) -> Path:
    """Where the manifest of one (repo, scale, seed, revision) lives."""
    folder = root / "manifests" / repo_id.replace("/", "--")
    return folder / f"{total_bytes}-s{seed}-r{revision}.json"


def _object_path(root: Path, sha256: str) -> Path:
    return root / "objects" / sha256[:2] / sha256


def _write_spec(root: Path, spec: FileSpec, seed: int) -> str:
    """Write one file under ``root/objects`` and return its content sha256."""
    tmp = root / "tmp" / uuid.uuid4().hex
    tmp.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    with tmp.open("wb", buffering=0) as out:
        if spec.content is not None:
            out.write(spec.content)
            hasher.update(spec.content)
        else:
            out.write(spec.header)
            hasher.update(spec.header)
            synth = ByteSynth(seed, spec.key)
            full, rest = divmod(spec.data_bytes, BLOCK_BYTES)
            for index in range(full + (1 if rest else 0)):
                block = synth.block(index)
                if index == full:
                    block = block[:rest]
                out.write(block)
                hasher.update(block)
    sha256 = hasher.hexdigest()
    target = _object_path(root, sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    return sha256


def _to_manifest_file(root: Path, spec: FileSpec, sha256: str) -> ManifestFile:
    lfs = is_lfs_path(spec.path)
    if lfs:
        oid = git_blob_oid(lfs_pointer(sha256, spec.size))
    else:
        assert spec.content is not None, f"{spec.path} is not LFS, so it must be a small literal"
        oid = git_blob_oid(spec.content)
    return ManifestFile(
        spec.path, spec.size, sha256 if lfs else None, oid, lfs, _object_path(root, sha256), sha256
    )


def _is_complete(manifest: RepoManifest) -> bool:
    return all(
        f.local_path.is_file() and f.local_path.stat().st_size == f.size for f in manifest.files
    )


def materialise(
    root: Path,
    shape: RepoShape,
    total_bytes: int,
    seed: int,
    revision: int = 0,
    parent: str | None = None,
) -> RepoManifest:
    """Return the manifest of ``shape`` at this scale/seed/revision, writing files if needed."""
    mpath = manifest_path(root, shape.repo_id, total_bytes, seed, revision)
    if mpath.is_file():
        cached = load_manifest(mpath.read_text(), root)
        if _is_complete(cached):
            return cached
    specs = plan_files(shape, total_bytes, seed, revision)
    workers = max(1, min(len(specs), os.cpu_count() or 1))
    logger.info(
        "generating %s (%d bytes, seed %d, r%d)", shape.repo_id, total_bytes, seed, revision
    )
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashes = list(pool.map(lambda s: _write_spec(root, s, seed), specs))
    files = tuple(_to_manifest_file(root, s, h) for s, h in zip(specs, hashes, strict=True))
    manifest = RepoManifest(shape.repo_id, commit_sha(parent, files), parent, files)
    mpath.parent.mkdir(parents=True, exist_ok=True)
    tmp = mpath.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(dump_manifest(manifest, root))
    os.replace(tmp, mpath)
    return manifest
