"""Hashing a blob on disk against its published checksum, the one way every layer does it.

The blob's stat is taken before and after reading, so a record made from the result
vouches only for the bytes that were read; a blob without a block table gets one from the
same pass, for later scrubs and block repairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from modelward.sources.files import RemoteFile
from modelward.store.hashing import BLOCK_BYTES, BlockHasher, differing_blocks, file_matches
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
    damaged_blocks: tuple[tuple[int, int], ...] | None = None
    """When blocks were compared and the blob does not match: the ranges of the blocks
    whose digest differs from its table."""


def check_blob(
    layout: RepoLayout,
    file: RemoteFile,
    on_chunk: Callable[[int], None] | None = None,
    *,
    compare_blocks: bool = False,
) -> BlobCheck:
    """Hash ``file``'s blob in ``layout`` (blocking; run in a thread). ``compare_blocks``
    also digests its blocks against its table in the same pass, so a repair that follows
    knows the damaged blocks without reading the file again."""
    path = layout.blob_path(file.blob_name)
    table = load_block_table(layout, file.blob_name)
    if table is None:
        blocks: BlockHasher | None = BlockHasher()
    elif compare_blocks and table.block_bytes == BLOCK_BYTES:
        blocks = BlockHasher(table.algorithm)
    else:
        blocks = None
    try:
        before = BlobStat.of(path)
        ok = file_matches(path, file, blocks, on_chunk)
        after = BlobStat.of(path)
    except OSError as exc:
        return BlobCheck(False, None, error=exc)
    if before != after:
        return BlobCheck(False, None, changed=True)
    if blocks is not None and table is None and ok:
        new = BlockTable(BLOCK_BYTES, blocks.algorithm, tuple(blocks.hexdigests()))
        save_block_table(layout, file.blob_name, new)
    if blocks is not None and table is not None and not ok:
        bad = differing_blocks(
            table.hashes, blocks.hexdigests(), table.block_bytes, before.size_bytes
        )
        return BlobCheck(False, before, damaged_blocks=tuple(bad))
    return BlobCheck(ok, before)
