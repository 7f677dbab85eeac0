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
    """In the snapshot folder but not in the repo at that commit (a stray or leftover file
    that a loader globbing the folder may pick up); it does not make the model unhealthy."""


CORRUPTION_KINDS = frozenset(
    {
        IssueKind.TRUNCATED,
        IssueKind.SIZE_MISMATCH,
        IssueKind.CHECKSUM_MISMATCH,
        IssueKind.BAD_HEADER,
        IssueKind.ERROR_PAGE,
        IssueKind.MODIFIED,
    }
)
"""Kinds that mean the bytes on disk are not the published ones."""


@dataclass(frozen=True, slots=True)
class IntegrityIssue:
    """One problem with one file, said so that a person knows what is wrong."""

    path: str
    """The file's path in the repo."""
    kind: IssueKind
    detail: str

    @property
    def category(self) -> str:
        """``corruption`` for damaged bytes, ``unexpected`` for a stray file, else
        ``missing``."""
        if self.kind in CORRUPTION_KINDS:
            return "corruption"
        return "unexpected" if self.kind is IssueKind.UNEXPECTED_FILE else "missing"

    def __str__(self) -> str:
        return f"{self.path}: {self.category} ({self.kind.value}): {self.detail}"


class IssueList(tuple[IntegrityIssue, ...]):
    """The issues of a check. ``"corruption" in issues`` (or ``"missing"``, a kind such as
    ``"checksum-mismatch"``, or a file path) asks whether any issue is of that sort, as the
    seed's tests do."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(item in (i.category, i.kind.value, i.path) for i in self)
        return super().__contains__(item)
