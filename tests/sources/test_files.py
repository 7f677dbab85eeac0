"""Validation of what a source says: paths, sizes, checksums, duplicates."""

from __future__ import annotations

import pytest

from modelward.errors import HostileMetadataError
from modelward.sources.files import (
    MAX_FILE_SIZE_BYTES,
    RemoteFile,
    check_unique_paths,
    validate_commit,
    validate_repo_path,
    validate_size,
)

SHA = "a" * 64
OID = "b" * 40


@pytest.mark.parametrize(
    "path",
    [
        "../evil",
        "a/../../evil",
        "/etc/passwd",
        "C:/windows",
        "a\\b",
        "a\x00b",
        "a//b",
        "./a",
        "a/.",
        "",
        "x" * 2000,
        "tab\there",
    ],
)
def test_escaping_paths_are_refused(path: str) -> None:
    with pytest.raises(HostileMetadataError):
        validate_repo_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "model_index.json",
        "transformer/x-00001-of-00002.safetensors",
        "a b/ü.json",
        ".gitattributes",
        "dir/.hidden",
    ],
)
def test_ordinary_paths_pass(path: str) -> None:
    assert validate_repo_path(path) == path


@pytest.mark.parametrize("size", [-1, MAX_FILE_SIZE_BYTES + 1, 1.5, "10", True, None])
def test_absurd_sizes_are_refused(size: object) -> None:
    with pytest.raises(HostileMetadataError):
        validate_size(size, "f")


def test_commit_must_be_hex() -> None:
    assert validate_commit("0" * 40) == "0" * 40
    for bad in ("main", "0" * 39, "g" * 40, None):
        with pytest.raises(HostileMetadataError):
            validate_commit(bad)


def test_duplicates_and_file_dir_clashes_are_refused() -> None:
    a = RemoteFile(validate_repo_path("a/b.json"), 1, git_oid=OID)
    with pytest.raises(HostileMetadataError, match="twice"):
        check_unique_paths([a, a])
    clash = RemoteFile(validate_repo_path("a"), 1, git_oid=OID)
    with pytest.raises(HostileMetadataError, match="both a file and a directory"):
        check_unique_paths([a, clash])


def test_remote_file_needs_a_wellformed_checksum() -> None:
    path = validate_repo_path("w.safetensors")
    with pytest.raises(HostileMetadataError):
        RemoteFile(path, 1)
    with pytest.raises(HostileMetadataError):
        RemoteFile(path, 1, sha256="XYZ")
    assert RemoteFile(path, 1, sha256=SHA).blob_name == SHA
    assert RemoteFile(path, 1, git_oid=OID).blob_name == OID
