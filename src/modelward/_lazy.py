"""Public names a package re-exports, imported from their modules on first use.

A package that re-exports many names would otherwise import every module behind them at
its own import, which is most of a command's start-up (``modelward --version`` needs none).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, home_of: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``home_of`` says which module
    holds each name; a name is kept in the package once imported."""
    namespace = importlib.import_module(package).__dict__

    def getattr_(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *names})

    return getattr_, dir_
