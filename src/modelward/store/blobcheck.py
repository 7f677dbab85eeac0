"""Hashing a blob on disk against its published checksum, the one way every layer does it.

The blob's stat is taken before and after reading, so a record made from the result
vouches only for the bytes that were read; a blob without a block table gets one from the
same pass, for later scrubs and block repairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from modelward.sources.files import RemoteFile
from modelward.store.hashing import BLOCK_BYTES, BlockHasher, file_matches
from modelward.store.layout import RepoLayout
from modelward.store.records import BlobStat, BlockTable, load_block_table, save_block_table


@dataclass(frozen=True, slots=True)
class BlobCheck:
    """What hashing one blob found."""

    matches: bool
    stat: BlobStat | None
    """The stat before reading; None when the blob could not be read or changed meanwhile."""
    changed: bool = False
    """The blob changed while it was being read (something is writing it)."""
    error: OSError | None = None


def check_blob(
    layout: RepoLayout, file: RemoteFile, on_chunk: Callable[[int], None] | None = None
) -> BlobCheck:
    """Hash ``file``'s blob in ``layout`` (blocking; run in a thread)."""
    path = layout.blob_path(file.blob_name)
    blocks = BlockHasher() if load_block_table(layout, file.blob_name) is None else None
    try:
        before = BlobStat.of(path)
        ok = file_matches(path, file, blocks, on_chunk)
        after = BlobStat.of(path)
    except OSError as exc:
        return BlobCheck(False, None, error=exc)
    if before != after:
        return BlobCheck(False, None, changed=True)
    if ok and blocks is not None:
        table = BlockTable(BLOCK_BYTES, blocks.algorithm, tuple(blocks.hexdigests()))
        save_block_table(layout, file.blob_name, table)
    return BlobCheck(ok, before)
