"""``modelward analytics``: how models were used, with small charts in a terminal, what
goes with slow generations, what to keep ready, and the operations figures (download
success and retries, the health trend, fallback usage) without Prometheus."""

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

from modelward.analytics import TimePeriod, UsageReport
from modelward.analytics.operations import OperationsReport
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
    the models worth keeping ready; download success rate and retries per model, integrity
    checks per day, and how often each fallback strategy and alternative served a job."""
    setup_logging(verbose)
    try:
        report, operations = asyncio.run(_report(build_settings(catalog), days))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        found = dataclasses.asdict(report) | {"operations": dataclasses.asdict(operations)}
        sys.stdout.write(json.dumps(found, indent=2, default=str) + "\n")
        return
    _print_usage(report, days)
    _print_operations(operations, days)


def _print_usage(report: UsageReport, days: int) -> None:
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
    if report.note:
        console.print(f"[yellow]{escape(report.note)}[/]", highlight=False)


def sparkline(values: list[int]) -> str:
    """A one-line chart of ``values`` (zeros as the lowest bar)."""
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, v * (len(BARS) - 1) // top)] for v in values)


def _print_operations(ops: OperationsReport, days: int) -> None:
    """Downloads per model, checks per day and fallback usage (only what happened)."""
    if ops.downloads:
        print_table(_downloads_table(ops, days))
    if ops.health_trend:
        print_table(_health_table(ops))
    if ops.strategies:
        uses = ", ".join(f"{s.strategy} {s.count}" for s in ops.strategies)
        console.print(f"fallback strategies: {uses}", highlight=False)
    for alt in ops.alternatives:
        console.print(
            f"{alt.requested_model} ran on {alt.used_model}: {alt.count} jobs", highlight=False
        )


def _downloads_table(ops: OperationsReport, days: int) -> Table:
    table = Table(title=f"downloads over the last {days} days")
    for column in ("model", "jobs", "success", "retries", "per job", "failed with"):
        table.add_column(column)
    for d in ops.downloads:
        rate = f"{d.success_rate:.0%}" if d.success_rate is not None else "-"
        codes = ", ".join(f"{code} ({n})" for code, n in d.failure_codes.items()) or "-"
        table.add_row(
            d.model_id, str(d.jobs), rate, str(d.retries), f"{d.retries_per_job:.1f}", codes
        )
    return table


def _health_table(ops: OperationsReport) -> Table:
    table = Table(title="integrity checks per day")
    for column in ("day", "checks", "unhealthy", "issues"):
        table.add_column(column)
    for day in ops.health_trend:
        table.add_row(str(day.day), str(day.checks), str(day.unhealthy), str(day.issues))
    return table


async def _report(settings: Settings, days: int) -> tuple[UsageReport, OperationsReport]:
    async with Runtime(settings) as rt:
        usage = await rt.analytics.generate_usage_report(days)
        return usage, await rt.operations.report(TimePeriod.last_days(days))
