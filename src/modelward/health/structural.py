"""Structural checks: what can be seen of a model's files without hashing them.

Each check reads kilobytes, not gigabytes: the start of a file (to catch an HTML or JSON
error page saved under a weight name), a safetensors header (whose offsets must account
for exactly the file's size), a small JSON file whole, the two ends of a large one (a
15 MB ``tokenizer.json`` that starts and ends like JSON is left to the full level), a
sharded model's index, read once (every shard it names must be there). Damage in the
middle of tensor data needs the scrub or full level.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from modelward.health.issues import IntegrityIssue, IssueKind

HEAD_BYTES = 1024
"""Enough to recognise an error page or a file's magic, and most safetensors headers' start."""
# The safetensors format refuses headers above 100 MB; anything larger is damage.
MAX_SAFETENSORS_HEADER = 100 * 1000 * 1000
PARSE_JSON_BYTES = 256 * 1024
"""JSON files up to this size are parsed whole (configs); larger ones only have their ends
looked at. Shard indexes are always parsed: their weight map is what the check needs."""
PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".pkl", ".pickle")
"""Weights saved with pickle: loading one runs what it imports."""
WEIGHT_SUFFIXES = (".safetensors", ".gguf", *PICKLE_SUFFIXES)
INDEX_SUFFIXES = (".safetensors.index.json", ".bin.index.json", ".pth.index.json")
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


def check_structure(
    snapshot_dir: Path,
    expected_sizes: Mapping[str, int | None],
    indexes: dict[str, object] | None = None,
) -> list[IntegrityIssue]:
    """Check every file a model should have under ``snapshot_dir`` (repo path → size, None
    when unknown) and that its shard indexes name only files that are there (blocking).

    ``indexes`` may hold shard indexes already known (repo path → parsed JSON; their files
    are not read again) and receives every index parsed here."""
    issues: list[IntegrityIssue] = []
    indexes = {} if indexes is None else indexes
    known = set(indexes)
    for repo_path, size in expected_sizes.items():
        if repo_path in known:
            continue
        issue = check_file(snapshot_dir / repo_path, repo_path, size, indexes)
        if issue is not None:
            issues.append(issue)
    for repo_path, index in indexes.items():
        if repo_path in expected_sizes:
            issues += _check_shard_set(snapshot_dir, repo_path, index, expected_sizes)
    return issues


def check_file(
    path: Path,
    repo_path: str,
    expected_size: int | None,
    indexes: dict[str, object] | None = None,
) -> IntegrityIssue | None:
    """The first problem found with one file, or None (blocking; reads only its start, or
    its ends). A shard index that parses is put in ``indexes`` under its repo path."""

    def issue(kind: IssueKind, detail: str) -> IntegrityIssue:
        return IntegrityIssue(repo_path, kind, detail)

    try:
        size = path.stat().st_size
        # Unbuffered: a buffered reader would read a whole buffer more than asked for.
        with path.open("rb", buffering=0) as fh:
            head = fh.read(HEAD_BYTES)
    except FileNotFoundError:
        return issue(IssueKind.MISSING, "the file is not in the snapshot")
    except OSError as exc:
        return issue(IssueKind.MISSING, f"the file cannot be read: {exc.strerror or exc}")
    if repo_path.endswith(WEIGHT_SUFFIXES) and looks_like_error_page(head):
        return issue(
            IssueKind.ERROR_PAGE,
            f"holds a {_page_kind(head)} error page ({size} bytes), not weights",
        )
    if expected_size is not None and size != expected_size:
        kind = IssueKind.TRUNCATED if size < expected_size else IssueKind.SIZE_MISMATCH
        return issue(kind, f"{size} bytes on disk, {expected_size} expected")
    if repo_path.endswith(".safetensors"):
        problem = _safetensors_problem(path, head, size)
        return issue(*problem) if problem else None
    if repo_path.endswith(".json"):
        return _json_issue(path, repo_path, head, size, indexes)
    if repo_path.endswith(PICKLE_SUFFIXES) and not _looks_like_torch_file(head):
        return issue(IssueKind.BAD_HEADER, "neither a torch zip archive nor a pickle stream")
    return None


def looks_like_error_page(head: bytes) -> bool:
    """True when a file starts like an HTML page or a JSON error answer."""
    text = head.lstrip()[:512].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return True
    return text.startswith(b"{") and b'"error' in text


def _page_kind(head: bytes) -> str:
    return "JSON" if head.lstrip().startswith(b"{") else "HTML"


def _safetensors_problem(path: Path, head: bytes, size: int) -> tuple[IssueKind, str] | None:
    if size < 8:
        return IssueKind.TRUNCATED, f"{size} bytes, shorter than a safetensors length prefix"
    (header_len,) = struct.unpack("<Q", head[:8])
    if header_len == 0 or header_len > MAX_SAFETENSORS_HEADER:
        return IssueKind.BAD_HEADER, f"the header length field reads {header_len}"
    if 8 + header_len > size:
        return IssueKind.TRUNCATED, f"the header needs {8 + header_len} bytes, the file has {size}"
    raw = head[8 : 8 + header_len]
    if len(raw) < header_len:
        with path.open("rb", buffering=0) as fh:
            fh.seek(8 + len(raw))
            raw += _read_exactly(fh, header_len - len(raw))
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return IssueKind.BAD_HEADER, "the header is not valid JSON"
    if not isinstance(header, dict):
        return IssueKind.BAD_HEADER, "the header is not a JSON object"
    data_end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        end = _tensor_end(entry)
        if end is None:
            return IssueKind.BAD_HEADER, f"tensor {name!r} has a malformed entry"
        data_end = max(data_end, end)
    expected = 8 + header_len + data_end
    if size < expected:
        return IssueKind.TRUNCATED, f"the header describes {expected} bytes, the file has {size}"
    if size > expected:
        return IssueKind.SIZE_MISMATCH, f"{size - expected} bytes after the last tensor"
    return None


def _tensor_end(entry: object) -> int | None:
    """The end offset of a well-formed tensor entry, else None."""
    if not isinstance(entry, dict):
        return None
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        return None
    if not (isinstance(offsets, list) and len(offsets) == 2):
        return None
    start, end = offsets
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
        return None
    item = DTYPE_BYTES.get(dtype) if isinstance(dtype, str) else None
    if item is not None and math.prod(shape) * item != end - start:
        return None
    return end


def _read_exactly(fh: BinaryIO, length: int) -> bytes:
    chunks = []
    while length > 0 and (chunk := fh.read(length)):
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def _json_issue(
    path: Path, repo_path: str, head: bytes, size: int, indexes: dict[str, object] | None
) -> IntegrityIssue | None:
    is_index = repo_path.endswith(INDEX_SUFFIXES)
    if size > PARSE_JSON_BYTES and not is_index:
        with path.open("rb", buffering=0) as fh:
            fh.seek(max(0, size - HEAD_BYTES))
            tail = _read_exactly(fh, HEAD_BYTES)
        starts, ends = head.lstrip()[:1], tail.rstrip()[-1:]
        if (starts, ends) not in ((b"{", b"}"), (b"[", b"]")):
            return IntegrityIssue(
                repo_path, IssueKind.BAD_HEADER, "does not start and end like a JSON document"
            )
        return None
    with path.open("rb", buffering=0) as fh:
        fh.seek(len(head))
        rest = _read_exactly(fh, size - len(head))
    try:
        parsed = json.loads(head + rest)
    except (UnicodeDecodeError, ValueError):
        return IntegrityIssue(repo_path, IssueKind.BAD_HEADER, "not valid JSON")
    if is_index and indexes is not None:
        indexes[repo_path] = parsed
    return None


def _looks_like_torch_file(head: bytes) -> bool:
    # torch.save writes a zip archive; older files are a bare pickle (protocol 2+).
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def _check_shard_set(
    snapshot_dir: Path, index_path: str, index: object, expected_sizes: Mapping[str, int | None]
) -> list[IntegrityIssue]:
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        return [IntegrityIssue(index_path, IssueKind.BAD_HEADER, "the index has no weight_map")]
    folder = index_path.rpartition("/")[0]
    issues = []
    for shard in sorted({str(s) for s in weight_map.values()}):
        shard_path = f"{folder}/{shard}" if folder else shard
        if shard_path not in expected_sizes or not (snapshot_dir / shard_path).is_file():
            issues.append(
                IntegrityIssue(
                    index_path,
                    IssueKind.INCOMPLETE_SHARD_SET,
                    f"names shard {shard_path}, which is not there",
                )
            )
    return issues
