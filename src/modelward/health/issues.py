"""What can be wrong with a file of a model (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IssueKind(StrEnum):
    """The kinds of damage a check can name."""

    MISSING = "missing"
    MODIFIED = "modified"
    """Changed on disk since it was verified; only the full level can say whether it is bad."""
    TRUNCATED = "truncated"
    SIZE_MISMATCH = "size-mismatch"
    CHECKSUM_MISMATCH = "checksum-mismatch"
    BAD_HEADER = "bad-header"
    ERROR_PAGE = "error-page"
    INCOMPLETE_SHARD_SET = "incomplete-shard-set"
    UNEXPECTED_FILE = "unexpected-file"


@dataclass(frozen=True, slots=True)
class IntegrityIssue:
    """One problem with one file, said so that a person knows what is wrong."""

    path: str
    """The file's path in the repo."""
    kind: IssueKind
    detail: str
