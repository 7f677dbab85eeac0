"""Every error modelward raises is defined in ``modelward.errors`` and drawn in its tree."""

from __future__ import annotations

import importlib
import pkgutil
import re

import modelward
from modelward import errors
from modelward.errors import (
    IncompleteTransferError,
    IntegrityError,
    ModelwardError,
    first_error,
)


def _every_subclass(cls: type[ModelwardError]) -> set[type[ModelwardError]]:
    found: set[type[ModelwardError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _every_subclass(sub)
    return found


def test_every_error_class_lives_in_errors_py_and_in_its_drawn_tree() -> None:
    for module in pkgutil.walk_packages(modelward.__path__, "modelward."):
        # __main__ would start the CLI; Alembic's env script runs only under Alembic.
        if not module.name.endswith(("__main__", "db_migrations.env")):
            importlib.import_module(module.name)
    classes = {c for c in _every_subclass(ModelwardError) if c.__module__.startswith("modelward")}
    elsewhere = sorted(
        f"{c.__module__}.{c.__name__}" for c in classes if c.__module__ != errors.__name__
    )
    assert elsewhere == [], "errors defined outside modelward.errors"
    drawn = set(re.findall(r"\b([A-Z]\w*Error)\b", errors.__doc__ or ""))
    missing = sorted(c.__name__ for c in classes if c.__name__ not in drawn)
    assert missing == [], "errors missing from the tree in errors.py's docstring"


def test_a_group_reports_the_cause_not_a_sibling_cut_short() -> None:
    """Seen once in CI: an integrity mismatch cancelled its siblings, one of which ended
    "incomplete" first, and that was what the download reported."""
    cut = IncompleteTransferError("connection closed after 4 MB")
    cause = IntegrityError("sha256 mismatch")
    group = BaseExceptionGroup("files", [cut, ValueError("x"), cause])
    assert first_error(group) is cause
    assert first_error(BaseExceptionGroup("files", [ValueError("x"), cut])) is cut
