"""``modelward fleet``: every node of the fleet and the models on each (behind, unhealthy
and offline marked); ``fleet pull|update|verify|remove MODEL [--nodes a,b]`` asks the
fleet's nodes through this home's service, which stores the action in the shared database
for every node to do its part; ``fleet actions`` shows how each node's part stands. The
view asks the running service, else reads the database here."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from modelward.api.schemas import (
    FleetActionIn,
    FleetActionPublic,
    FleetActionsPublic,
    FleetPublic,
    NodeModelPublic,
    NodePublic,
)
from modelward.cli.client import ServiceClient
from modelward.cli.options import JsonOpt
from modelward.cli.output import console, fail, print_table
from modelward.cli.where import ask_service_or_here
from modelward.errors import ConfigError
from modelward.runtime import Runtime
from modelward.units import format_size

fleet_app = typer.Typer(
    help="The fleet: every node, the models on each, and actions asked of all of them."
)
ModelArg = Annotated[str, typer.Argument(help="Model id from the catalog.", show_default=False)]
NodesOpt = Annotated[
    str | None,
    typer.Option("--nodes", help="Only these nodes, comma-separated (default: every one)."),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Follow each node's part until all have ended.")
]
_ENDED = frozenset({"completed", "failed"})
_WAIT_POLL_S = 1.0


@fleet_app.callback(invoke_without_command=True)
def show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show every node (address, last seen, free disk) and the models on each, with their
    version and health; behind, unhealthy and offline are marked."""
    if ctx.invoked_subcommand is not None:
        return

    async def here(rt: Runtime) -> FleetPublic:
        # Imported here: a route module brings FastAPI, which no other command needs.
        from modelward.api.routes.fleet import public_fleet

        return public_fleet(await rt.fleet.view())

    found = ask_service_or_here(None, None, False, lambda s: s.fleet(), here)
    if as_json:
        sys.stdout.write(found.model_dump_json(indent=2) + "\n")
        return
    _print_fleet(found)


def _ask(action: str, model: str, nodes: str | None, wait: bool, as_json: bool) -> None:
    body = _body(action, model, nodes)

    def remote(service: ServiceClient) -> FleetActionPublic:
        asked = service.ask_fleet(body)
        return _follow(service, asked) if wait else asked

    asked = ask_service_or_here(None, None, False, remote, None)
    if as_json:
        sys.stdout.write(asked.model_dump_json(indent=2) + "\n")
    else:
        _print_action(asked)
        if not wait:
            console.print("follow it with `modelward fleet actions`.", highlight=False)
    if wait and any(r.state == "failed" for r in asked.results):
        raise typer.Exit(1)


def _body(action: str, model: str, nodes: str | None) -> FleetActionIn:
    """The request, or exit 2 with the next step when a value cannot be one."""
    names = [n.strip() for n in nodes.split(",") if n.strip()] if nodes is not None else None
    try:
        return FleetActionIn.model_validate({"action": action, "model_id": model, "nodes": names})
    except ValidationError as exc:
        wrong = "; ".join(str(e["msg"]) for e in exc.errors())
        raise fail(
            ConfigError(
                f"cannot ask the fleet for that: {wrong}",
                hint="Name nodes as `modelward fleet` lists them (letters, digits, '.', '_' "
                "or '-'), separated by commas.",
            )
        ) from None


@fleet_app.command("pull")
def pull(
    model: ModelArg, nodes: NodesOpt = None, wait: WaitOpt = False, as_json: JsonOpt = False
) -> None:
    """Download MODEL on every node (or the named ones), each from its own service."""
    _ask("pull", model, nodes, wait, as_json)


@fleet_app.command("update")
def update(
    model: ModelArg, nodes: NodesOpt = None, wait: WaitOpt = False, as_json: JsonOpt = False
) -> None:
    """Apply MODEL's newest version on every node (or the named ones)."""
    _ask("update", model, nodes, wait, as_json)


@fleet_app.command("verify")
def verify(
    model: ModelArg, nodes: NodesOpt = None, wait: WaitOpt = False, as_json: JsonOpt = False
) -> None:
    """Check MODEL's files on every node (or the named ones)."""
    _ask("verify", model, nodes, wait, as_json)


@fleet_app.command("remove")
def remove(
    model: ModelArg, nodes: NodesOpt = None, wait: WaitOpt = False, as_json: JsonOpt = False
) -> None:
    """Remove MODEL's files on every node (or the named ones)."""
    _ask("remove", model, nodes, wait, as_json)


@fleet_app.command("actions")
def actions(
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=200)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Show the latest fleet actions, each node's part with its state and message."""

    async def here(rt: Runtime) -> FleetActionsPublic:
        from modelward.api.routes.fleet import public_action

        data = [public_action(a) for a in await rt.fleet.actions(limit)]
        return FleetActionsPublic(data=data, count=len(data))

    found = ask_service_or_here(None, None, False, lambda s: s.fleet_actions(limit), here)
    if as_json:
        sys.stdout.write(json.dumps([a.model_dump(mode="json") for a in found.data], indent=2))
        sys.stdout.write("\n")
        return
    if not found.data:
        console.print("no fleet action was asked yet.")
        return
    for action in found.data:
        _print_action(action)


def _follow(service: ServiceClient, asked: FleetActionPublic) -> FleetActionPublic:
    """``asked`` once every node addressed has ended its part."""
    while True:
        time.sleep(_WAIT_POLL_S)
        now = next((a for a in service.fleet_actions(50).data if a.id == asked.id), asked)
        if now.results and all(r.state in _ENDED for r in now.results):
            return now


def _print_fleet(fleet: FleetPublic) -> None:
    if not fleet.nodes:
        console.print(
            "no node has registered yet: a node registers while its service runs "
            "(`modelward serve`).",
            highlight=False,
        )
        if fleet.note:
            console.print(fleet.note, highlight=False)
        return
    table = Table(title=f"fleet ({len(fleet.nodes)} node{'s' if len(fleet.nodes) != 1 else ''})")
    for column in ("node", "address", "last seen", "free disk", "models"):
        table.add_column(column)
    behind = {(c.node, m.model_id) for m in fleet.models for c in m.nodes if c.behind}
    for node in fleet.nodes:
        name = escape(node.name) + (" (this)" if node.this_node else "")
        seen = _seen(node)
        free = format_size(node.free_bytes) if node.free_bytes is not None else "-"
        lines = [_model_line(node.name, m, behind) for m in node.models if _shown(m)]
        table.add_row(name, escape(node.address or "-"), seen, free, "\n".join(lines) or "-")
    print_table(table)
    if fleet.note:
        console.print(fleet.note, highlight=False)


def _seen(node: NodePublic) -> str:
    ago = max(0.0, time.time() - node.last_seen.timestamp())
    when = f"{ago:.0f} s ago" if ago < 120 else _when(node.last_seen)
    return when if node.online else f"[red]offline[/] ({when})"


def _shown(model: NodeModelPublic) -> bool:
    return model.state != "missing" or model.commit is not None


def _model_line(node: str, model: NodeModelPublic, behind: set[tuple[str, str]]) -> str:
    version = (model.commit or "-")[:10]
    words = [escape(model.model_id), version, model.state]
    if model.state in ("downloading", "queued", "paused") and model.progress is not None:
        words.append(f"{model.progress:.0f}%")
    if model.healthy is False:
        words.append("[red]unhealthy[/]")
    if (node, model.model_id) in behind:
        words.append("[yellow]behind[/]")
    return " ".join(words)


def _print_action(action: FleetActionPublic) -> None:
    who = "every node" if action.nodes is None else ", ".join(action.nodes)
    title = (
        f"{action.action} {action.model_id} on {who} (asked by {action.actor} on {action.origin})"
    )
    console.print(escape(title), highlight=False)  # above, not as the title: it would wrap
    table = Table()
    for column in ("node", "state", "message"):
        table.add_column(column)
    colour = {"completed": "green", "failed": "red", "running": "cyan", "pending": "dim"}
    for r in action.results:
        state = f"[{colour[r.state]}]{r.state}[/]"
        table.add_row(escape(r.node), state, escape(r.message or r.error_code or "-"))
    print_table(table)


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
