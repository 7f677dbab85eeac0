"""Synthetic repos: shape, valid safetensors, LFS vs git blobs, determinism, reuse."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
import safetensors

from modelward.devhub import WAN_REPOS, RepoManifest, parse_size
from modelward.devhub.manifest import git_blob_oid, lfs_pointer
from modelward.devhub.materialise import materialise
from modelward.devhub.registry import RepoRegistry
from modelward.devhub.safetensors import DTYPE_BYTES
from modelward.devhub.shapes import I2V_A14B, T2V_A14B, TI2V_5B
from modelward.errors import ConfigError

TINY = parse_size("tiny")


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RepoManifest]:
    root = tmp_path_factory.mktemp("repos")
    return {s.repo_id: materialise(root, s, TINY, seed=0) for s in WAN_REPOS}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8MB", 8_000_000),
        ("2GB", 2_000_000_000),
        ("1MiB", 1 << 20),
        (1234, 1234),
        ("1.5 GiB", int(1.5 * 2**30)),
        ("tiny", TINY),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "lots", "5 parsecs", -1, "512", "8000000", "20MB/s"])
def test_parse_size_rejects(bad: str | int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(bad)
    assert "8MB" in info.value.hint and "tiny" in info.value.hint


def test_layouts(manifests: dict[str, RepoManifest]) -> None:
    t2v = {f.path for f in manifests[T2V_A14B.repo_id].files}
    ti2v = {f.path for f in manifests[TI2V_5B.repo_id].files}
    common = {
        "model_index.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors.index.json",
        "tokenizer/special_tokens_map.json",
        "tokenizer/spiece.model",
        "tokenizer/tokenizer.json",
        "tokenizer/tokenizer_config.json",
        "transformer/config.json",
        "transformer/diffusion_pytorch_model.safetensors.index.json",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
        "README.md",
        ".gitattributes",
    }
    assert common <= t2v and common <= ti2v
    assert any(p.startswith("transformer_2/") for p in t2v)
    assert not any(p.startswith("transformer_2/") for p in ti2v)
    i2v_index = json.loads(
        manifests[I2V_A14B.repo_id].file("model_index.json").local_path.read_text()
    )
    assert i2v_index["_class_name"] == "WanImageToVideoPipeline"
    assert "image_encoder" in i2v_index and "transformer_2" in i2v_index


def test_tiny_sizes_and_proportions(manifests: dict[str, RepoManifest]) -> None:
    for manifest in manifests.values():
        assert 2_000_000 <= manifest.total_size <= 8_000_000
        assert max(f.size for f in manifest.files if f.path.endswith(".safetensors")) >= 1 << 20
        by_part = {
            p: sum(f.size for f in manifest.files if f.path.startswith(p + "/"))
            for p in ("transformer", "text_encoder", "vae")
        }
        assert by_part["transformer"] > by_part["text_encoder"] > by_part["vae"]


def _check_safetensors(path: Path) -> dict[str, dict[str, object]]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8 : 8 + length])
    header.pop("__metadata__")
    offset = 0
    for info in sorted(header.values(), key=lambda t: t["data_offsets"][0]):
        start, end = info["data_offsets"]
        assert start == offset
        count = 1
        for dim in info["shape"]:
            count *= dim
        assert end - start == count * DTYPE_BYTES[info["dtype"]]
        offset = end
    assert 8 + length + offset == len(raw)
    return header  # type: ignore[no-any-return]


def test_safetensors_and_indexes_are_consistent(manifests: dict[str, RepoManifest]) -> None:
    manifest = manifests[T2V_A14B.repo_id]
    for index_file in (f for f in manifest.files if f.path.endswith(".index.json")):
        index = json.loads(index_file.local_path.read_text())
        folder = index_file.path.rsplit("/", 1)[0]
        total = 0
        seen: set[str] = set()
        for shard in sorted(set(index["weight_map"].values())):
            header = _check_safetensors(manifest.file(f"{folder}/{shard}").local_path)
            seen.update(header)
            total += sum(
                t["data_offsets"][1] - t["data_offsets"][0]  # type: ignore[index]
                for t in header.values()
            )
        assert seen == set(index["weight_map"])
        assert index["metadata"]["total_size"] == total


def test_safetensors_library_reads_shards(manifests: dict[str, RepoManifest]) -> None:
    for f in manifests[TI2V_5B.repo_id].files:
        if f.path.endswith(".safetensors"):
            # deserialize parses header and data without needing numpy or torch.
            tensors = safetensors.deserialize(f.local_path.read_bytes())
            assert tensors and all(info["data"] is not None for _, info in tensors)


def test_lfs_and_git_ids(manifests: dict[str, RepoManifest]) -> None:
    manifest = manifests[TI2V_5B.repo_id]
    lfs = {f.path for f in manifest.files if f.is_lfs}
    assert "tokenizer/tokenizer.json" in lfs and "tokenizer/spiece.model" in lfs
    assert all(p.endswith((".safetensors", ".model", "tokenizer.json")) for p in lfs)
    for f in manifest.files:
        content = f.local_path.read_bytes()
        assert len(content) == f.size
        assert hashlib.sha256(content).hexdigest() == f.content_sha256
        if f.is_lfs:
            assert f.sha256 == f.content_sha256
            assert f.git_oid == git_blob_oid(lfs_pointer(f.content_sha256, f.size))
        else:
            assert f.sha256 is None and f.git_oid == git_blob_oid(content)
    json.loads(manifest.file("tokenizer/tokenizer.json").local_path.read_text())
    assert len(manifest.commit) == 40


def test_deterministic_and_reused(tmp_path: Path, manifests: dict[str, RepoManifest]) -> None:
    again = materialise(tmp_path / "a", TI2V_5B, TINY, seed=0)
    assert again.commit == manifests[TI2V_5B.repo_id].commit
    assert [f.content_sha256 for f in again.files] == [
        f.content_sha256 for f in manifests[TI2V_5B.repo_id].files
    ]
    other = materialise(tmp_path / "b", TI2V_5B, TINY, seed=1)
    assert other.commit != again.commit
    mtimes = [f.local_path.stat().st_mtime_ns for f in again.files]
    reused = materialise(tmp_path / "a", TI2V_5B, TINY, seed=0)
    assert reused == again
    assert [f.local_path.stat().st_mtime_ns for f in reused.files] == mtimes


def test_bump_commit_changes_two_files(tmp_path: Path) -> None:
    registry = RepoRegistry(tmp_path, TINY, 0, [TI2V_5B], {})
    registry.load()
    old = registry.manifest(TI2V_5B.repo_id)
    new_sha = registry.bump_commit(TI2V_5B.repo_id)
    new = registry.manifest(TI2V_5B.repo_id)
    assert new.commit == new_sha != old.commit and new.parent == old.commit
    assert registry.manifest(TI2V_5B.repo_id, old.commit) == old
    changed = {f.path for f, g in zip(old.files, new.files, strict=True) if f != g}
    first_shard = min(
        f.path for f in old.files if f.path.startswith("transformer/diffusion_pytorch_model-")
    )
    assert changed == {"transformer/config.json", first_shard}
    again = RepoRegistry(tmp_path, TINY, 0, [TI2V_5B], {})
    again.load()
    assert again.bump_commit(TI2V_5B.repo_id) == new_sha
