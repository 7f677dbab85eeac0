"""``modelward demo``: local hub + service + a pull of the default catalog, on one machine."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from modelward.cli.options import build_settings
from modelward.cli.progress import PullProgress
from modelward.cli.service import run_service
from modelward.devhub import DevHub, Fault, FaultPlan, parse_size
from modelward.runtime import Runtime


def run_demo(
    console: Console,
    *,
    port: int,
    hub_port: int,
    scale: str,
    hub_rate: str,
    root: Path | None,
    catalog: list[Path] | None,
) -> None:
    """Run the demo until Ctrl-C; everything it writes stays under ``root``."""
    base = build_settings(catalog)
    root = root or base.home / "demo"
    console.print(
        f"[bold]modelward demo[/]: generating Wan2.2-shaped repos ({scale} each) "
        f"under {root / 'hub'} …"
    )
    with DevHub(root=root / "hub", scale=scale).running_in_thread(port=hub_port) as hub:
        rate = parse_size(hub_rate)
        if rate:
            hub.set_faults(FaultPlan([Fault.rate(rate)]))
        console.print(
            f"local hub at {hub.url}"
            + (f" (each connection capped at {hub_rate}/s)" if rate else "")
        )
        settings = base.model_copy(
            update={
                "endpoint": hub.url,
                "cache_dir": root / "cache",
                "home": root / "home",
                "port": port,
                "retry_base_delay_s": 0.2,
            }
        )

        async def pull_all(runtime: Runtime, url: str) -> None:
            bars = PullProgress(console)
            runtime.bus.subscribe(bars)
            ids = runtime.catalog.ids()
            console.print(f"pulling {', '.join(ids)} from the local hub into {settings.cache_dir}")
            with bars.progress:
                results = await asyncio.gather(
                    *(runtime.downloader.download_with_retry(m) for m in ids)
                )
            for r in results:
                mark = "[green]✓[/]" if r.success else "[red]✗[/]"
                console.print(
                    f"{mark} {r.model_id}: {r.final_status.value}"
                    + (f" — {r.error_message}" if r.error_message else "")
                )
            console.print(
                f"\nThe service keeps running at [bold]{url}[/] "
                f"(try {url}/api/v1/models/status). Ctrl-C stops the demo."
            )

        run_service(settings, console, after_start=pull_all)
