"""``modelward demo``: local hub + service + a pull of the default catalog, on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from modelward.availability import DemoGenerator, GenerationRequest
from modelward.cli.client import ServiceClient
from modelward.cli.demo_mirror import (
    PublishWatch,
    mirror_settings,
    mirror_walkthrough,
    ready_mirror,
    spawn_mirror,
)
from modelward.cli.discovery import find_service
from modelward.cli.options import build_settings
from modelward.cli.pull import pull_and_report
from modelward.cli.service import ServeOptions, run_service
from modelward.devhub import DevHub, Fault, FaultPlan
from modelward.errors import ConfigError, PortInUseError, ServiceNotRunningError
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
    limit: str,
    root: Path | None,
    catalog: list[Path] | None,
) -> None:
    """Run the demo until Ctrl-C; everything it writes stays under ``root``."""
    base = build_settings(catalog)
    rate = parse_rate(hub_rate)  # a rate without a unit is refused before any work
    cap = parse_rate(limit)
    root = root or base.home / "demo"
    console.print(
        f"[bold]modelward demo[/]: generating Wan2.2-shaped repos ({scale} each) "
        f"under {root / 'hub'} …"
    )
    with contextlib.ExitStack() as stack:
        # SeaweedFS starts (some 3 s) while the hub generates its repos.
        s3 = spawn_mirror(stack, root / "mirror", console)
        hub = _start_hub(stack, root / "hub", scale, hub_port)
        if rate:
            hub.set_faults(FaultPlan([Fault.rate(rate)]))
        capped = f" (each connection capped at {format_rate(rate)})" if rate else ""
        console.print(f"local hub at {hub.url}{capped}")
        mirror = ready_mirror(s3, console)
        settings = base.with_changes(
            endpoint=hub.url,
            cache_dir=root / "cache",
            home=root / "home",
            port=port,
            retry_base_delay_s=0.2,
            bandwidth_limit_bytes_per_s=cap,
            **mirror_settings(mirror),
        )

        async def pull_all(runtime: Runtime, url: str) -> None:
            ids, left = _split_for_walkthrough(runtime.catalog.ids())
            demo = DemoGenerator(runtime.bridge, settings.home / "outputs")
            job = GenerationRequest(prompt="a lighthouse at dusk, waves below")
            first = ids[0]
            before = await demo.generate(first, job)
            console.print(f"a {first} job before any pull: {before.message}", highlight=False)
            console.print(where_line, highlight=False, soft_wrap=True)
            console.print(f"pulling {', '.join(ids)} from the local hub into {settings.cache_dir}")
            watch = PublishWatch(runtime.bus) if mirror is not None else None
            # The same path as `modelward pull`: a client of this service's API and events.
            with ServiceClient(url, runtime.settings.api_token, home=settings.home) as client:
                await asyncio.to_thread(pull_and_report, client, list(ids), console, console)
            if watch is not None:
                await watch.report(console)
            after = await demo.generate(first, job)
            console.print(f"the same job now: {after.message}", highlight=False)
            console.print(
                f"\nThe dashboard is at [bold]{url}/[/] and the service keeps running at "
                f"{url} (try {url}/api/v1/models/status, or `{_command_name()} request run "
                f'{first} --prompt "..."`).'
            )
            console.print(where_line, highlight=False, soft_wrap=True)
            if left:
                console.print(_walkthrough(left, cap), highlight=False)
            if mirror is not None:
                # Not wrapped: the export line is for copying whole.
                walkthrough = mirror_walkthrough(mirror, _command_name())
                console.print(walkthrough, highlight=False, soft_wrap=True)
            console.print("Ctrl-C stops the demo.")

        register_in, where_line = _registration(base.home, settings.home)
        options = ServeOptions(after_start=pull_all, register_in=register_in)
        run_service(settings, console, options)


def _start_hub(stack: contextlib.ExitStack, root: Path, scale: str, port: int) -> DevHub:
    """The local hub, running until ``stack`` closes; a taken port names --hub-port."""
    try:
        return stack.enter_context(DevHub(root=root, scale=scale).running_in_thread(port=port))
    except PortInUseError as taken:
        raise PortInUseError(taken.host, taken.port, option="--hub-port") from None
    except ConfigError as cannot:  # another reason it cannot listen there
        hint = cannot.hint.replace("--port", "--hub-port")
        raise ConfigError(cannot.message, hint=hint) from None


def default_home() -> Path:
    """The MODELWARD_HOME of a shell with no variables set."""
    return Settings.from_env({k: v for k, v in os.environ.items() if k != "MODELWARD_HOME"}).home


def _registration(home: Path, demo_home: Path) -> tuple[tuple[Path, ...], str]:
    """Homes where the demo's service is registered (the default one, and MODELWARD_HOME if
    set), so `modelward status` with no variables finds it; and the line to use. A home a
    live service already owns is left to it."""
    default = default_home()
    homes = [h for h in dict.fromkeys((default, home)) if h != demo_home]
    free = tuple(h for h in homes if not _owned(h))
    if default in free:
        return free, f"In another shell: {_command_name()} status"
    export = f"export MODELWARD_HOME={shlex.quote(str(demo_home))}"
    return free, f"In another shell (a service already runs for {default}): {export}"


def _owned(home: Path) -> bool:
    try:
        find_service(home)
    except ServiceNotRunningError:
        return False
    return True


# The demo leaves one model for a person to pull from another shell, so pause, resume and
# limit have a running download to act on (the README's walkthrough).
WALKTHROUGH_MODEL = "ti2v-5b"


def _split_for_walkthrough(ids: Sequence[str]) -> tuple[list[str], str | None]:
    """The models the demo pulls itself, and the one it leaves for the walkthrough."""
    if WALKTHROUGH_MODEL in ids and len(ids) > 1:
        return [m for m in ids if m != WALKTHROUGH_MODEL], WALKTHROUGH_MODEL
    return list(ids), None


def _walkthrough(model: str, cap: int) -> str:
    """What to try in another shell, written with the command that runs there."""
    mw = _command_name()
    capped = f" (the demo caps downloads at {format_rate(cap)})" if cap else ""
    return (
        f"{model} is left for you to pull{capped}; in another shell try:\n"
        f"  {mw} pull {model}      # Ctrl-C detaches; the download goes on\n"
        f"  {mw} pause {model}\n  {mw} status --json\n  {mw} resume {model}\n"
        f"  {mw} limit 20MB/s"
    )


def _command_name() -> str:
    """``modelward`` when that name runs this program in a new shell, else its full path."""
    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("modelward")
    if here is not None and found is not None and Path(found).resolve() == here:
        return "modelward"
    script = Path(sys.executable).parent / "modelward"
    return str(script) if script.exists() else "modelward"
