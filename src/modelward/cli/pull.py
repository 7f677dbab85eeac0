"""Pulling models with live bars, and reporting how each pull ended; used by pull and demo."""

from __future__ import annotations

import asyncio

from rich.console import Console

from modelward.cli.progress import PullProgress
from modelward.runtime import Runtime
from modelward.transfer import DownloadResult
from modelward.transfer.progress import MB as MIB


async def pull_with_bars(
    runtime: Runtime, model_ids: list[str] | tuple[str, ...], console: Console
) -> list[DownloadResult]:
    """Download the models at once, drawing bars from the runtime's events."""
    bars = PullProgress(console)
    unsubscribe = runtime.bus.subscribe(bars)
    try:
        with bars.progress:
            return list(
                await asyncio.gather(
                    *(
                        runtime.downloader.download_with_retry(m, runtime.settings.max_retries)
                        for m in model_ids
                    )
                )
            )
    finally:
        unsubscribe()


def print_results(results: list[DownloadResult], console: Console, err_console: Console) -> None:
    """One line per model; a failure also says what to do next."""
    for r in results:
        if r.success:
            console.print(
                f"[green]✓[/] {r.model_id}: {r.final_size_mb:,.1f} MiB verified "
                f"({r.bytes_fetched / MIB:,.1f} MiB fetched, {r.total_retries} retries, "
                f"{r.total_time_seconds:.1f}s)"
            )
        else:
            err_console.print(
                f"[bold red]✗ {r.model_id}[/] [dim]({r.error_code})[/]: {r.error_message}\n"
                f"[bold]next step:[/] {r.error_hint}"
            )
