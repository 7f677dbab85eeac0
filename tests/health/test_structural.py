"""Structural checks on a real downloaded model, damaged on disk one way at a time."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from modelward.health import IntegrityIssue, IssueKind, check_file, check_structure
from tests.health.conftest import Model


def _kinds(issues: list[IntegrityIssue]) -> set[tuple[str, IssueKind]]:
    return {(i.path, i.kind) for i in issues}


async def test_a_healthy_model_has_no_structural_issue(model: Model) -> None:
    assert model.issues() == []


async def test_a_truncated_shard_is_truncated(model: Model) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    os.truncate(blob, blob.stat().st_size - 100)
    assert _kinds(model.issues()) == {(shard, IssueKind.TRUNCATED)}
    # Without the published size the header alone still tells.
    issue = check_file(model.snapshot / shard, shard, None)
    assert issue is not None and issue.kind is IssueKind.TRUNCATED


async def test_extra_bytes_are_a_size_mismatch(model: Model) -> None:
    shard = model.shard()
    with model.blob(shard).open("ab") as fh:
        fh.write(b"\0" * 64)
    assert _kinds(model.issues()) == {(shard, IssueKind.SIZE_MISMATCH)}
    issue = check_file(model.snapshot / shard, shard, None)
    assert issue is not None and issue.kind is IssueKind.SIZE_MISMATCH


async def test_a_zeroed_header_is_a_bad_header(model: Model) -> None:
    shard = model.shard()
    with model.blob(shard).open("r+b") as fh:
        fh.write(b"\0" * 64)
    assert _kinds(model.issues()) == {(shard, IssueKind.BAD_HEADER)}


async def test_a_header_whose_offsets_do_not_fit_is_a_bad_header(model: Model) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    with blob.open("r+b") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(length))
        name = next(k for k in header if k != "__metadata__")
        header[name]["shape"] = [3, 5, 7]  # no longer the size its offsets span
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (length - len(raw))
        assert len(raw) == length
        fh.seek(8)
        fh.write(raw)
    assert _kinds(model.issues()) == {(shard, IssueKind.BAD_HEADER)}


async def test_an_html_page_under_a_weight_name_is_an_error_page(model: Model) -> None:
    shard = model.shard()
    model.blob(shard).write_bytes(b"<!DOCTYPE html><html><body>Access denied</body></html>")
    assert _kinds(model.issues()) == {(shard, IssueKind.ERROR_PAGE)}


async def test_a_deleted_shard_is_missing_and_leaves_its_set_incomplete(model: Model) -> None:
    shard = model.shard()
    (model.snapshot / shard).unlink()
    index = next(p for p in model.sizes if p.endswith(".safetensors.index.json"))
    assert _kinds(model.issues()) == {
        (shard, IssueKind.MISSING),
        (index, IssueKind.INCOMPLETE_SHARD_SET),
    }


async def test_a_broken_config_is_reported(model: Model) -> None:
    config = next(p for p in model.sizes if p.endswith("config.json"))
    blob = model.blob(config)
    blob.write_bytes(b"{" + b" " * (blob.stat().st_size - 1))
    assert _kinds(model.issues()) == {(config, IssueKind.BAD_HEADER)}


async def test_bytes_flipped_in_the_tensor_data_need_the_full_check(model: Model) -> None:
    shard = model.shard()
    blob = model.blob(shard)
    with blob.open("r+b") as fh:
        fh.seek(blob.stat().st_size // 2)
        fh.write(b"\xff" * 16)
    assert model.issues() == []  # same size, sound header: only a checksum can see it


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"PK\x03\x04" + bytes(100), None),
        (b"\x80\x02" + bytes(100), None),
        (b"\x00garbage" * 10, IssueKind.BAD_HEADER),
        (b'{"error": "Repository not found"}', IssueKind.ERROR_PAGE),
    ],
)
def test_pickle_weights_are_checked_by_their_first_bytes(
    tmp_path: Path, content: bytes, kind: IssueKind | None
) -> None:
    path = tmp_path / "vae.pth"
    path.write_bytes(content)
    issue = check_file(path, "vae.pth", len(content))
    assert (issue.kind if issue else None) is kind


def test_a_large_json_file_is_judged_by_its_ends(tmp_path: Path) -> None:
    # A real-size tokenizer.json: parsing 15 MB whole is what the full level is for.
    vocab = {f"token{i}": i for i in range(400_000)}
    content = json.dumps({"model": {"vocab": vocab}}).encode()
    path = tmp_path / "tokenizer.json"
    path.write_bytes(content)
    assert len(content) > 4 * 1024 * 1024
    assert check_file(path, "tokenizer.json", len(content)) is None

    path.write_bytes(content[: len(content) // 2])  # cut short: the end is not JSON's
    issue = check_file(path, "tokenizer.json", None)
    assert issue is not None and issue.kind is IssueKind.BAD_HEADER

    path.write_bytes(b"<!DOCTYPE html>" + b" " * len(content))
    issue = check_file(path, "tokenizer.json", None)
    assert issue is not None and issue.kind is IssueKind.BAD_HEADER


def test_an_index_is_read_once_and_its_shards_checked(tmp_path: Path) -> None:
    index = {"weight_map": {"a": "model-1.safetensors", "b": "model-2.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    sizes: dict[str, int | None] = {"model.safetensors.index.json": None}
    [issue, other] = check_structure(tmp_path, sizes)
    assert {issue.detail, other.detail} == {
        "names shard model-1.safetensors, which is not there",
        "names shard model-2.safetensors, which is not there",
    }
    (tmp_path / "model.safetensors.index.json").write_text("{not json")
    [broken] = check_structure(tmp_path, sizes)
    assert broken.kind is IssueKind.BAD_HEADER and broken.detail == "not valid JSON"
