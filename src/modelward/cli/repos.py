"""``pull ORG/NAME[@REVISION] --include GLOB --exclude GLOB``: repo arguments into model ids.

An argument holding '/' or '@' names a Hub repo; anything else is a catalog id. Repo
arguments are checked before anything runs (a hostile name is refused with exit 2), then
the service registers each (``POST /api/v1/models``) as the entry it means (see
:mod:`modelward.catalog.remembered`), and the pull goes on with its id.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelward.api.schemas import RegisteredModelPublic
from modelward.catalog.remembered import RepoRequest, looks_like_repo
from modelward.errors import CatalogError

PullArgument = str | RepoRequest


def parse_pull_arguments(
    arguments: Sequence[str], include: Sequence[str] | None, exclude: Sequence[str] | None
) -> list[PullArgument]:
    """Catalog ids as given, repo arguments as checked requests (CatalogError: exit 2)."""
    parsed: list[PullArgument] = [
        RepoRequest.parse(a, include or (), exclude or ()) if looks_like_repo(a) else a
        for a in arguments
    ]
    if (include or exclude) and all(isinstance(p, str) for p in parsed):
        raise CatalogError(
            "--include and --exclude select files of a Hub repo given as ORG/NAME, "
            f"and no argument is one (got {', '.join(arguments)})",
            hint="Pull the repo by name (modelward pull ORG/NAME --include '*.json'), or "
            "set include/exclude in a catalog entry (docs/CATALOG.md).",
        )
    return parsed


def describe(request: RepoRequest, entry: RegisteredModelPublic) -> str:
    """One line: which entry a repo argument became, and that its id works everywhere."""
    if entry.created:
        return (
            f"{request.repo}: remembered as '{entry.id}', {_selection(entry)} "
            "(status, verify, rm ... take this id)"
        )
    return f"{request.repo}: model '{entry.id}'"


def _selection(entry: RegisteredModelPublic) -> str:
    parts = [f"revision {entry.revision}"]
    if entry.include:
        parts.append("only " + ", ".join(entry.include))
    if entry.exclude:
        parts.append("without " + ", ".join(entry.exclude))
    return "; ".join(parts)
