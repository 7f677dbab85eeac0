"""Where the CLI writes, and how it reports an error: one paragraph with the next step."""

from __future__ import annotations

from typing import Protocol

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


class Explained(Protocol):
    """An error that says what happened and what to do: ours, or one the service sent."""

    @property
    def code(self) -> str:
        """Stable kebab-case code."""
        ...

    @property
    def message(self) -> str:
        """What went wrong, for a person."""
        ...

    @property
    def hint(self) -> str:
        """The action to take."""
        ...


def fail(error: Explained) -> typer.Exit:
    """Print an error as a short paragraph with the next step, and return the exit."""
    err_console.print(f"[bold red]error[/] [dim]({error.code})[/]: {error.message}")
    if error.hint:
        err_console.print(f"[bold]next step:[/] {error.hint}")
    return typer.Exit(1)
