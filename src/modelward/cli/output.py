"""Where the CLI writes and how: an error as one paragraph with the next step (exit 1, or 2
for bad input), progress only on stderr and only on a terminal, tables within its width."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from typer import _click as click  # typer's own click, which its classes are built on
from typer.core import TyperGroup

from modelward.errors import CatalogError, ConfigError, ModelwardError

if TYPE_CHECKING:  # rich's progress display: imported by the commands that draw one
    from rich.progress import Progress, ProgressColumn
    from rich.status import Status

console = Console()
err_console = Console(stderr=True)

# Exit codes: 0 done, 1 the work failed, 2 the input was wrong (as click's usage errors).
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
# Codes the service sends for what our own ConfigError / CatalogError cover here.
BAD_INPUT_CODES = frozenset(
    {"config-invalid", "catalog-invalid", "model-unknown", "request-unknown", "request-invalid"}
)


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


def exit_code(error: Explained) -> int:
    """2 when the input was wrong (a value, a model id, a setting), else 1."""
    if isinstance(error, ConfigError | CatalogError) or error.code in BAD_INPUT_CODES:
        return EXIT_BAD_INPUT
    if getattr(error, "status_code", None) == 422:  # the service found the request invalid
        return EXIT_BAD_INPUT
    return EXIT_FAILED


def fail(error: Explained) -> typer.Exit:
    """Print an error as a short paragraph with the next step, and return the exit."""
    # The message may quote what the user typed: escape it, "[x]" is not markup here.
    err_console.print(f"[bold red]error[/] [dim]({error.code})[/]: {escape(error.message)}")
    if error.hint:
        err_console.print(f"[bold]next step:[/] {escape(error.hint)}")
    return typer.Exit(exit_code(error))


class ReportingGroup(TyperGroup):
    """The command tree: a modelward error no command caught still ends as :func:`fail`
    (one paragraph, exit 1 or 2), never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen command."""
        try:
            return super().invoke(ctx)
        except ModelwardError as error:
            raise fail(error) from None


def progress_bar(*columns: str | ProgressColumn, transient: bool = False) -> Progress:
    """The one way the CLI draws progress: on stderr, and only when stderr is a terminal,
    so stdout stays clean for pipes and ``--json``."""
    from rich.progress import Progress

    return Progress(
        *columns,
        console=err_console,
        transient=transient,
        disable=not err_console.is_terminal,
    )


def status_line(message: str) -> Status | None:
    """A live "working on it" line under the same rule as :func:`progress_bar` (None when
    stderr is not a terminal); start, update and stop it as a rich ``Status``."""
    return err_console.status(message) if err_console.is_terminal else None


@contextlib.contextmanager
def spinner(message: str) -> Iterator[None]:
    """:func:`status_line` for the length of a ``with`` block."""
    shown = status_line(message)
    if shown is None:
        yield
        return
    with shown:
        yield


def print_table(table: Table, out: Console | None = None) -> None:
    """Print ``table`` within the terminal's width, wrapping cells only between words;
    a table that cannot fit so is printed as a list, one row after the other."""
    out = out or console
    if _fit_columns(table, out):
        out.print(table)
    else:
        _print_as_list(table, out)


def print_path(label: str, path: object, out: Console | None = None) -> None:
    """``label: path`` on one line when it fits, else the path alone on the next line:
    a path is never cut, so it can be copied (a terminal may still fold it visually)."""
    out = out or console
    line = f"{label}: {path}"
    if len(line) > out.width:
        out.print(f"{label}:", markup=False, highlight=False)
        line = str(path)
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _fit_columns(table: Table, out: Console) -> bool:
    # rich narrows the widest columns first, below their longest word ("text-to-vide/o"):
    # give each column its longest word, then share out what is left.
    ranges = [_measure(out, [column.header, *column.cells]) for column in table.columns]
    room = out.width - _frame_width(table)
    lows = [r.minimum for r in ranges]
    wants = [r.maximum - r.minimum for r in ranges]
    if sum(lows) > room:
        return False
    if sum(lows) + sum(wants) > room:
        shares = _share(room - sum(lows), wants)
        for column, low, share in zip(table.columns, lows, shares, strict=True):
            column.width = low + share
    return True


def _share(spare: int, wants: list[int]) -> list[int]:
    """Share ``spare`` out, modest wants first: short values ("0.01 GB") stay on one line
    and the long text of the widest columns wraps instead."""
    shares = [0] * len(wants)
    for index in sorted(range(len(wants)), key=wants.__getitem__):
        shares[index] = min(wants[index], spare)
        spare -= shares[index]
    return shares


def _print_as_list(table: Table, out: Console) -> None:
    if table.title:
        out.print(table.title, style="italic")
    headers = [escape(str(column.header)) for column in table.columns]
    for cells in zip(*(column.cells for column in table.columns), strict=True):
        out.print(cells[0])
        for header, cell in zip(headers[1:], cells[1:], strict=True):
            shown = cell.replace("\n", "\n    ") if isinstance(cell, str) else cell
            out.print(f"  [dim]{header}:[/]", shown)


def _measure(out: Console, cells: list[Any]) -> Measurement:
    found = [Measurement.get(out, out.options, cell) for cell in cells]
    return Measurement(max(m.minimum for m in found), max(m.maximum for m in found))


def _frame_width(table: Table) -> int:
    _, right, _, left = Padding.unpack(table.padding)
    count = len(table.columns)
    borders = 0 if table.box is None else count + 1 if table.show_edge else count - 1
    return count * (left + right) + borders
