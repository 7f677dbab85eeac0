"""``modelward status``'s output: a rich table, or for a large catalog the table's columns
as aligned plain lines.

rich lays a table out cell by cell, measuring every word; for a few models that is nothing,
for 20,000 catalog entries it is most of a minute. Above :data:`TABLE_MAX_ROWS` models the
same columns, paths, progress and errors are written as plain aligned lines in one write.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from rich.markup import escape
from rich.table import Table

from modelward.cli.output import console, err_console, print_path, print_table
from modelward.units import format_size

if TYPE_CHECKING:
    from modelward.api.schemas import ModelStatusPublic

TABLE_MAX_ROWS = 200
"""Up to this many models, ``status`` draws a rich table."""
STATUS_COLUMNS = ("model", "status", "size", "verified", "missing", "usable for")
"""The status table's columns, rich or plain."""


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile: deriving 20,000 statuses makes objects
    that all live until the command ends, and its full passes over them were a third of
    the time; cycles left by then are collected when it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def print_status_table(statuses: list[ModelStatusPublic]) -> None:
    """The status table (plain lines above :data:`TABLE_MAX_ROWS` models), then where each
    model is or how far it got, then the errors on stderr."""
    if len(statuses) > TABLE_MAX_ROWS:
        print_status_lines(statuses)
        return
    table = Table(title="modelward status")
    for column in STATUS_COLUMNS:
        table.add_column(column)
    colours = {"available": "green", "corrupted": "red", "failed": "red", "missing": "yellow"}
    for s in statuses:
        model, state, size, verified, missing, _ = status_row(s)
        coloured = f"[{colours.get(state, 'cyan')}]{state}[/]"
        table.add_row(model, coloured, size, verified, missing, "\n".join(s.usable_for) or "-")
    print_table(table)
    for s in statuses:
        if s.local_path:
            print_path(s.model_id, s.local_path)
        elif line := progress_line(s):
            console.print(line, markup=False, highlight=False)  # wrapped between words
    for s in statuses:
        if s.error_message:
            said = escape(f"{s.error_message} ({s.error_hint})")  # may quote a server's text
            err_console.print(f"[yellow]{s.model_id}[/]: {said}")


def status_row(s: ModelStatusPublic) -> tuple[str, str, str, str, str, str]:
    """The table's cells for one model (usable-for items joined by ``; ``)."""
    return (
        s.model_id,
        s.availability_status.value,
        format_size(s.size_bytes) if s.size_bytes else "?",
        format_size(s.verified_bytes),
        str(len(s.missing_files)) if s.missing_files or s.is_available else "?",
        "; ".join(s.usable_for) or "-",
    )


def print_status_lines(
    statuses: list[ModelStatusPublic], out: TextIO | None = None, err: TextIO | None = None
) -> None:
    """The status table, then where each model is (or how far it got), then the errors,
    as plain lines."""
    out = out or sys.stdout
    err = err or sys.stderr
    rows = [STATUS_COLUMNS, *(status_row(s) for s in statuses)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(STATUS_COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    lines += [line for s in statuses if (line := _where(s))]
    out.write("\n".join(lines) + "\n")
    errors = [
        f"{s.model_id}: {s.error_message} ({s.error_hint})" for s in statuses if s.error_message
    ]
    if errors:
        err.write("\n".join(errors) + "\n")


def _where(s: ModelStatusPublic) -> str | None:
    if s.local_path:
        return f"{s.model_id}: {s.local_path}"
    return progress_line(s)


def progress_line(s: ModelStatusPublic) -> str | None:
    """How far a model on its way is: verified share, time left, missing files (None when
    it is ready or nothing is known)."""
    if s.download_progress is None or s.is_available:
        return None
    line = f"{s.model_id}: {s.download_progress:.1f}% verified"
    if s.estimated_download_time is not None:
        line += f", about {s.estimated_download_time:.0f} s left"
    if s.waiting:
        line += f"; {s.waiting}"
    if s.metadata_from:
        line += f"; files and checksums from {s.metadata_from}"
    if s.missing_files:
        shown = ", ".join(s.missing_files[:5])
        more = f" and {len(s.missing_files) - 5} more" if len(s.missing_files) > 5 else ""
        line += f"; missing: {shown}{more}"
    return line
