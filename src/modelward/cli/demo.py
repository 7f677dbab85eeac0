"""``modelward demo``: local hub + service + a pull of the default catalog, on one machine."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from modelward.availability import DemoGenerator, GenerationRequest
from modelward.cli.options import build_settings
from modelward.cli.pull import print_results, pull_with_bars
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
        capped = f" (each connection capped at {hub_rate}/s)" if rate else ""
        console.print(f"local hub at {hub.url}{capped}")
        settings = base.with_changes(
            endpoint=hub.url,
            cache_dir=root / "cache",
            home=root / "home",
            port=port,
            retry_base_delay_s=0.2,
        )

        async def pull_all(runtime: Runtime, url: str) -> None:
            ids = runtime.catalog.ids()
            demo = DemoGenerator(runtime.bridge, settings.home / "outputs")
            job = GenerationRequest(prompt="a lighthouse at dusk, waves below")
            first = ids[-1]
            before = await demo.generate(first, job)
            console.print(f"a {first} job before any pull: {before.message}", highlight=False)
            console.print(f"pulling {', '.join(ids)} from the local hub into {settings.cache_dir}")
            print_results(await pull_with_bars(runtime, ids, console), console, console)
            after = await demo.generate(first, job)
            console.print(f"the same job now: {after.message}", highlight=False)
            console.print(
                f"\nThe dashboard is at [bold]{url}/[/] and the service keeps running at "
                f"{url} (try {url}/api/v1/models/status, or `modelward request run {first} "
                '--prompt "..."`). Ctrl-C stops the demo.'
            )

        run_service(settings, console, after_start=pull_all)
