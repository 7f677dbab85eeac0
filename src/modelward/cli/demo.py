"""``modelward demo``: local hub + service + a pull of the default catalog, on one machine."""

from __future__ import annotations

import asyncio
import os
import shlex
from pathlib import Path

from rich.console import Console

from modelward.availability import DemoGenerator, GenerationRequest
from modelward.cli.client import ServiceClient
from modelward.cli.discovery import find_service
from modelward.cli.options import build_settings
from modelward.cli.pull import pull_and_report
from modelward.cli.service import ServeOptions, run_service
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import ServiceNotRunningError
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.units import format_rate, parse_rate


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
    rate = parse_rate(hub_rate)  # a rate without a unit is refused before any work
    root = root or base.home / "demo"
    console.print(
        f"[bold]modelward demo[/]: generating Wan2.2-shaped repos ({scale} each) "
        f"under {root / 'hub'} …"
    )
    with DevHub(root=root / "hub", scale=scale).running_in_thread(port=hub_port) as hub:
        if rate:
            hub.set_faults(FaultPlan([Fault.rate(rate)]))
        capped = f" (each connection capped at {format_rate(rate)})" if rate else ""
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
            console.print(where_line, highlight=False, soft_wrap=True)
            console.print(f"pulling {', '.join(ids)} from the local hub into {settings.cache_dir}")
            # The same path as `modelward pull`: a client of this service's API and events.
            with ServiceClient(url, runtime.settings.api_token, home=settings.home) as client:
                await asyncio.to_thread(pull_and_report, client, list(ids), console, console)
            after = await demo.generate(first, job)
            console.print(f"the same job now: {after.message}", highlight=False)
            console.print(
                f"\nThe dashboard is at [bold]{url}/[/] and the service keeps running at "
                f"{url} (try {url}/api/v1/models/status, or `modelward request run {first} "
                '--prompt "..."`). Ctrl-C stops the demo.'
            )
            console.print(where_line, highlight=False, soft_wrap=True)

        register_in, where_line = _registration(base.home, settings.home)
        options = ServeOptions(after_start=pull_all, register_in=register_in)
        run_service(settings, console, options)


def default_home() -> Path:
    """The MODELWARD_HOME of a shell with no variables set."""
    return Settings.from_env({k: v for k, v in os.environ.items() if k != "MODELWARD_HOME"}).home


def _registration(home: Path, demo_home: Path) -> tuple[tuple[Path, ...], str]:
    """Homes where the demo's service is registered (the default one, and MODELWARD_HOME if
    set), so `modelward status` with no variables finds it; and the line to use. A home a
    live service already owns is left to it."""
    homes = [h for h in dict.fromkeys((default_home(), home)) if h != demo_home]
    free = tuple(h for h in homes if not _owned(h))
    if default_home() in free:
        return free, "In another shell: modelward status"
    export = f"export MODELWARD_HOME={shlex.quote(str(demo_home))}"
    return free, f"In another shell (a service already runs for {default_home()}): {export}"


def _owned(home: Path) -> bool:
    try:
        find_service(home)
    except ServiceNotRunningError:
        return False
    return True
