"""Safetensors headers written by hand, so that GB-sized shards can be streamed.

Layout: 8-byte little-endian header length, a JSON header padded with spaces to a
multiple of 8, then the tensors' bytes back to back in header order.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

DTYPE_BYTES: dict[str, int] = {"BF16": 2, "F16": 2, "F32": 4, "I64": 8}


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a shard: name, dtype and shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def size_bytes(self) -> int:
        """Bytes of data this tensor occupies."""
        return math.prod(self.shape) * DTYPE_BYTES[self.dtype]


def encode_header(tensors: Sequence[TensorSpec]) -> bytes:
    """Return the length prefix and padded JSON header for ``tensors`` laid out in order."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for tensor in tensors:
        end = offset + tensor.size_bytes
        header[tensor.name] = {
            "dtype": tensor.dtype,
            "shape": list(tensor.shape),
            "data_offsets": [offset, end],
        }
        offset = end
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def data_size(tensors: Sequence[TensorSpec]) -> int:
    """Total bytes of tensor data (what an index's ``total_size`` counts)."""
    return sum(t.size_bytes for t in tensors)


def plan_layer_tensors(
    names: Sequence[str], budget_bytes: int, dtype: str, width: int
) -> list[TensorSpec]:
    """Split ``budget_bytes`` into ``[out, in]`` weights (``in`` <= width) with ``[out]`` biases.

    ``names`` are weight names; each gets a companion ``.bias``-named tensor. The result
    stays within the budget (it may come out a little under, never over).
    """
    item = DTYPE_BYTES[dtype]
    per_tensor = max(budget_bytes // max(len(names), 1), item * 2)
    cols = 1 << max(0, min(width, per_tensor // (item * 4)).bit_length() - 1)
    rows = max(1, per_tensor // ((cols + 1) * item))
    tensors: list[TensorSpec] = []
    for name in names:
        tensors.append(TensorSpec(name, dtype, (rows, cols)))
        tensors.append(TensorSpec(name.removesuffix(".weight") + ".bias", dtype, (rows,)))
    return tensors


def parse_header(prefix: bytes) -> dict[str, object]:
    """Parse the header at the start of a safetensors file (for checks and tests)."""
    (length,) = struct.unpack("<Q", prefix[:8])
    parsed: dict[str, object] = json.loads(prefix[8 : 8 + length])
    return parsed
