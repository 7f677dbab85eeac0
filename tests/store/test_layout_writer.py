"""Cache layout and promotion, checked against huggingface_hub's own conventions."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from huggingface_hub.file_download import repo_folder_name as hf_repo_folder_name

from modelward.errors import CorruptEntryError
from modelward.sources import RemoteFile, validate_repo_path
from modelward.store import RepoLayout, repo_folder_name
from modelward.store.hashing import ContentHasher, file_matches
from modelward.store.writer import link_snapshot, promote_blob, read_ref, write_ref

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
COMMIT = "1" * 40


def _layout(tmp_path: Path) -> RepoLayout:
    return RepoLayout(tmp_path / "cache", tmp_path / "home", REPO)


def _file(path: str, data: bytes) -> RemoteFile:
    return RemoteFile(validate_repo_path(path), len(data), sha256=hashlib.sha256(data).hexdigest())


def test_folder_name_matches_huggingface_hub() -> None:
    assert repo_folder_name(REPO) == hf_repo_folder_name(repo_id=REPO, repo_type="model")


def test_git_blob_id_matches_git() -> None:
    data = b"hello\n"
    # `git hash-object` of "hello\n"
    f = RemoteFile(
        validate_repo_path("a.txt"), len(data), git_oid="ce013625030ba8dba906f756967f9e9ca394464a"
    )
    hasher = ContentHasher(f)
    hasher.update(data)
    assert hasher.matches()


def test_promote_then_link_makes_a_relative_link_to_the_verified_blob(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    data = b"weights" * 1000
    f = _file("transformer/diffusion_pytorch_model-00001-of-00003.safetensors", data)
    layout.blobs_dir.mkdir(parents=True)
    layout.incomplete_path(f.blob_name).write_bytes(data)
    blob = promote_blob(layout, f)
    assert not layout.incomplete_path(f.blob_name).exists()
    link = link_snapshot(layout, COMMIT, f)
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert link.resolve() == blob.resolve()
    assert file_matches(link, f)
    write_ref(layout, "main", COMMIT)
    assert read_ref(layout, "main") == COMMIT


def test_no_link_to_a_missing_blob_and_no_ref_to_a_missing_snapshot(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    f = _file("vae/diffusion_pytorch_model.safetensors", b"x")
    with pytest.raises(CorruptEntryError):
        link_snapshot(layout, COMMIT, f)
    with pytest.raises(CorruptEntryError):
        write_ref(layout, "main", COMMIT)
    assert not layout.snapshot_dir(COMMIT).exists()


def test_file_matches_rejects_wrong_size_and_content(tmp_path: Path) -> None:
    f = _file("a.bin", b"abc")
    p = tmp_path / "a"
    p.write_bytes(b"abd")
    assert not file_matches(p, f)
    p.write_bytes(b"abcd")
    assert not file_matches(p, f)
    p.write_bytes(b"abc")
    assert file_matches(p, f)
