"""``modelward pull`` as a client of the service: start (or join) each model's download,
follow the service's event stream until each one ends, and report the service's figures.

The stream is subscribed before any download is asked for, so no event of these jobs is
missed; a model the service already fetches is simply followed. Ctrl-C only detaches: the
download goes on in the service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console

from modelward.catalog.remembered import RepoRequest
from modelward.cli.client import CONNECTED, ServiceClient, ServiceEvent
from modelward.cli.headstart import EarlyStart
from modelward.cli.progress import PullBars
from modelward.cli.repos import describe
from modelward.cli.where import agreeing, running_service, start_service
from modelward.errors import ModelwardError
from modelward.settings import Settings
from modelward.units import format_rate, format_size, format_speed

PROGRESS = "download.progress"
STATE = "download.state"
ENDED = frozenset({"completed", "failed", "cancelled", "paused"})


@dataclass(frozen=True, slots=True)
class PullOutcome:
    """How one model's download ended, in the service's figures."""

    model_id: str
    status: str
    size_bytes: int | None = None
    bytes_fetched: int = 0
    elapsed_s: float | None = None
    retries: int = 0
    code: str | None = None
    message: str | None = None
    hint: str | None = None
    offline: bool = False
    """The service is offline (HF_HUB_OFFLINE): files checked, updates not looked for."""
    metadata_from: str | None = None
    """Where the files and checksums came from, when not from the Hub."""

    @property
    def success(self) -> bool:
        """The model is complete and verified."""
        return self.status == "completed"

    @classmethod
    def from_event(cls, event: ServiceEvent, total_bytes: int | None) -> PullOutcome:
        """The outcome a ``download.state`` event reports."""
        data = event.data
        size = data.get("size_bytes")
        return cls(
            model_id=event.model_id or "",
            status=str(data.get("status")),
            size_bytes=int(size) if size is not None else total_bytes,
            bytes_fetched=int(data.get("bytes_fetched") or 0),
            elapsed_s=float(data["elapsed_s"]) if data.get("elapsed_s") is not None else None,
            retries=int(data.get("retries") or 0),
            code=data.get("code"),
            message=data.get("message"),
            hint=data.get("hint"),
            offline=bool(data.get("offline")),
            metadata_from=data.get("metadata_from"),
        )


class Detached(Exception):  # noqa: N818 (not an error: the user let go)
    """Ctrl-C while following: the downloads named in ``model_ids`` go on in the service."""

    def __init__(self, model_ids: list[str]) -> None:
        super().__init__(", ".join(model_ids))
        self.model_ids = model_ids


class Follower:
    """Follows the downloads of some models on an event stream until each has ended."""

    def __init__(self, model_ids: list[str], bars: PullBars | None) -> None:
        self.waiting = list(dict.fromkeys(model_ids))
        self.outcomes: dict[str, PullOutcome] = {}
        self._totals: dict[str, int] = {}
        self.bars = bars

    def follow(self, events: Iterator[ServiceEvent]) -> list[PullOutcome]:
        """Read events until every model's download has ended."""
        for event in events:
            self.on_event(event)
            if not self.pending():
                break
        return [self.outcomes[m] for m in self.waiting]

    def pending(self) -> list[str]:
        """The models whose download has not ended yet."""
        return [m for m in self.waiting if m not in self.outcomes]

    def on_event(self, event: ServiceEvent) -> None:
        """Take one event of the stream into account."""
        model_id = event.model_id
        if model_id not in self.waiting or model_id in self.outcomes:
            return
        if event.type == PROGRESS:
            progress = event.progress()
            self._totals[model_id] = progress.total_bytes
            if self.bars is not None:
                self.bars.show(progress)
        elif event.type == STATE and event.data.get("status") in ENDED:
            outcome = PullOutcome.from_event(event, self._totals.get(model_id))
            self.outcomes[model_id] = outcome
            if self.bars is not None:
                self.bars.finish(model_id, outcome.size_bytes if outcome.success else None)


def pull_models(
    client: ServiceClient, model_ids: list[str], err_console: Console
) -> list[PullOutcome]:
    """Ask the service for each model and follow the downloads to their end; bars go to
    ``err_console`` when it is a terminal. Ctrl-C raises Detached: they go on running."""
    events = client.events()
    follower = Follower(model_ids, None)
    try:
        for event in events:  # nothing is asked for before the stream listens
            if event.type == CONNECTED:
                break
        for model_id in model_ids:
            accepted = client.download(model_id)
            if accepted.joined:  # say so: the pull follows what already runs
                err_console.print(
                    f"{model_id} is already {accepted.status.value} in the service at "
                    f"{client.url}; following it.",
                    highlight=False,
                )
        if not err_console.is_terminal:
            return follower.follow(events)
        with PullBars() as bars:
            follower.bars = bars
            return follower.follow(events)
    except KeyboardInterrupt:
        raise Detached(follower.pending()) from None
    finally:
        events.close()


def print_outcomes(
    outcomes: list[PullOutcome], console: Console, err_console: Console, url: str
) -> None:
    """One line per model, from the service's figures; a failure also says what to do."""
    for o in outcomes:
        if o.success:
            console.print(f"[green]✓[/] {o.model_id}: {_figures(o)}", highlight=False)
            if o.metadata_from:
                console.print(f"  files and checksums from {o.metadata_from}", highlight=False)
        elif o.status == "paused":
            err_console.print(
                f"[yellow]paused[/] {o.model_id}: paused in the service at {url}; its partial "
                f"data is kept. 'modelward resume {o.model_id}' continues it.",
                highlight=False,
            )
        else:
            err_console.print(
                f"[bold red]✗ {o.model_id}[/] [dim]({o.code or o.status})[/]: "
                f"{o.message or o.status}\n[bold]next step:[/] "
                f"{o.hint or f'modelward pull {o.model_id}'}",
                highlight=False,
            )


def _figures(o: PullOutcome) -> str:
    size = f"{format_size(o.size_bytes)} verified" if o.size_bytes is not None else "verified"
    took = f" in {o.elapsed_s:.1f} s" if o.elapsed_s is not None else ""
    retries = f", {o.retries} retries" if o.retries else ""
    if o.offline:
        return f"{size} (offline: nothing fetched, not checked for updates)"
    if not o.bytes_fetched:
        return f"{size} (already complete, nothing fetched{retries})"
    speed = ""
    if o.elapsed_s:
        speed = f", {format_speed(o.bytes_fetched / o.elapsed_s)}"
    return f"{size} ({format_size(o.bytes_fetched)} fetched{took}{speed}{retries})"


def service_for_pull(
    settings: Settings,
    serve_args: list[str],
    serve_env: dict[str, str],
    err_console: Console,
    early: EarlyStart | None = None,
) -> ServiceClient:
    """The running service, or one started for this pull with the pull's own options
    (``early``: spawned already, while this command was importing)."""
    if early is not None:
        return start_service(settings, serve_args, serve_env, early=early)
    client = running_service(settings)
    if client is None:
        return start_service(settings, serve_args, serve_env)
    agreeing(client, settings, serve_args)
    if serve_env:
        err_console.print(
            f"note: the service at {client.url} keeps its own connections and retries; "
            "--connections and --max-retries apply to a service a pull starts.",
            highlight=False,
        )
    return client


def pull_and_report(
    client: ServiceClient,
    model_ids: list[str],
    console: Console,
    err_console: Console,
    *,
    limit_bytes_per_s: int | None = None,
) -> int:
    """Pull through ``client``, print one line per model, and return the exit code (0 all
    complete, 1 one did not, 130 detached by Ctrl-C).

    ``limit_bytes_per_s`` caps each model's own rate for this pull only: the cap goes when
    the pull ends, except on a download the pull detached from, which keeps it."""
    capped = _cap(client, model_ids, limit_bytes_per_s)
    try:
        outcomes = pull_models(client, model_ids, err_console)
    except Detached as detached:
        for model_id in detached.model_ids:
            if model_id in capped:
                capped.remove(model_id)
            err_console.print(
                f"detached: {model_id} goes on downloading in the service at {client.url}"
                f"{_kept(model_id, limit_bytes_per_s)}; 'modelward status' follows it, "
                f"'modelward pause {model_id}' pauses it",
                highlight=False,
            )
        return 130
    finally:
        for model_id in capped:  # the pull's cap does not outlive it
            with contextlib.suppress(ModelwardError):  # a service gone has no caps left
                client.set_model_bandwidth(model_id, 0)
    print_outcomes(outcomes, console, err_console, client.url)
    return 0 if all(o.success for o in outcomes) else 1


def _cap(client: ServiceClient, model_ids: list[str], rate: int | None) -> list[str]:
    """Give each model the pull's cap, as ``modelward limit RATE --model MODEL`` would;
    the models capped."""
    if rate is None:
        return []
    for model_id in model_ids:
        client.set_model_bandwidth(model_id, rate)
    return list(model_ids)


def _kept(model_id: str, rate: int | None) -> str:
    if rate is None:
        return ""
    return (
        f" at most {format_rate(rate)} (the pull's cap stays with it; 'modelward limit 0 "
        f"--model {model_id}' lifts it)"
    )


def service_model_ids(
    client: ServiceClient, wanted: list[str | RepoRequest], err_console: Console
) -> list[str]:
    """The model id of each pull argument; a Hub repo becomes an entry of the service."""
    ids: list[str] = []
    for argument in wanted:
        if isinstance(argument, str):
            ids.append(argument)
            continue
        entry = client.register_repo(
            argument.repo, argument.revision, list(argument.include), list(argument.exclude)
        )
        err_console.print(describe(argument, entry), highlight=False, soft_wrap=True)
        ids.append(entry.id)
    return ids
