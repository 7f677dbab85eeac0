"""``modelward analytics``: how models were used, with small charts in a terminal, what
goes with slow generations, and what to keep ready."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelward.analytics import UsageReport
from modelward.cli.actions import step_line
from modelward.cli.options import CatalogOpt, JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import console, fail, print_table
from modelward.errors import ModelwardError
from modelward.runtime import Runtime
from modelward.settings import Settings

BARS = "▁▂▃▄▅▆▇█"
CHART_MIN_WIDTH = 110


def analytics(
    days: Annotated[int, typer.Option(help="How many days back.", min=1, max=3650)] = 30,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Usage per model (uses, rate, time, success), peak hours, performance findings and
    the models worth keeping ready."""
    setup_logging(verbose)
    try:
        report = asyncio.run(_report(build_settings(catalog), days))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(dataclasses.asdict(report), indent=2, default=str) + "\n")
        return
    # A month of bars is one 30-character word: only where it fits beside the rest.
    charts = console.is_terminal and console.width >= CHART_MIN_WIDTH
    table = Table(title=f"usage over the last {days} days ({report.total_uses} jobs)")
    columns = ["model", "uses", "per day", "avg time", "success", "peak hours", "last used"]
    if charts:
        columns.append("last 30 days")
    for column in columns:
        table.add_column(column)
    for s in report.models:
        row = [
            s.model_id,
            str(s.total_uses),
            f"{s.uses_per_day:.2f}",
            f"{s.average_generation_time:.1f} s" if s.total_uses else "-",
            f"{s.success_rate:.0%}" if s.total_uses else "-",
            ", ".join(f"{h:02d}h" for h in s.peak_usage_hours) or "-",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(s.last_used))
            if s.last_used
            else "never",
        ]
        if charts:
            row.append(sparkline([d.uses for d in s.last_30_days_usage]))
        table.add_row(*row)
    print_table(table)
    if report.peak_usage_hours:
        console.print("busiest hours: " + ", ".join(f"{h:02d}:00" for h in report.peak_usage_hours))
    for finding in report.findings:
        what = step_line(finding.suggestion, finding.action, finding.model_id)
        console.print(f"[yellow]{escape(finding.message)}[/]: {escape(what)}", highlight=False)
    if report.preload:
        console.print("likely in the next two hours: " + ", ".join(report.preload))


def sparkline(values: list[int]) -> str:
    """A one-line chart of ``values`` (zeros as the lowest bar)."""
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, v * (len(BARS) - 1) // top)] for v in values)


async def _report(settings: Settings, days: int) -> UsageReport:
    async with Runtime(settings) as rt:
        return await rt.analytics.generate_usage_report(days)
