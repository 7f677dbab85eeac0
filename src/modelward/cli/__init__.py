"""The command-line interface.

:func:`main` answers ``modelward --version`` before the command tree is built (typer, rich
and the settings take a tenth of a second to import); ``app`` is imported on first use, and
each command's module only when that command runs (``commands.py``).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from modelward._version import __version__

if TYPE_CHECKING:
    from typer import Typer

    from modelward.cli.app import app

__all__ = ["app", "main"]


def version_line() -> str:
    """What ``modelward --version`` prints."""
    return f"modelward {__version__}"


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_line() + "\n")
        return
    # httpx imports its own command line (click, pygments, rich.progress and rich.syntax)
    # whenever they are installed, 20-50 ms of every command for a tool modelward never
    # runs; with this, its `import` fails and httpx defines its stand-in, as it does when
    # they are missing.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from modelward.cli.app import main as run  # the command tree, only for a command

    run()


class _Package(ModuleType):
    """This package, whose ``app`` is the typer application, not its module ``app.py``."""

    @property
    def app(self) -> Typer:
        """The typer application, imported on first use."""
        return import_module("modelward.cli.app").app  # type: ignore[no-any-return]

    @app.setter
    def app(self, module: object) -> None:
        # Importing modelward.cli.app binds the submodule here; ``app`` stays the application.
        pass


sys.modules[__name__].__class__ = _Package
