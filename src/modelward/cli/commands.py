"""The command tree, each command built, and its module imported, only when it runs.

A command's module brings in what its work needs (the runtime, the API's schemas, the HTTP
client: SQLAlchemy, httpx, pydantic), which took most of a second; ``modelward status`` must
not pay for ``adopt`` or ``analytics``, nor for typer building the options of thirty other
commands. :data:`LAZY` names each command's module and the first paragraph of its help,
which ``modelward --help`` lists without importing or building anything
(``tests/cli/test_lazy_commands.py`` keeps it equal to the command's own help).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from difflib import get_close_matches

import typer
from typer import _click as click  # typer's own click, which its classes are built on
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from modelward.cli.output import ReportingGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a command is defined, and its summary for the list of commands."""

    module: str
    attribute: str
    summary: str

    def load(self, name: str, group: TyperGroup) -> click.Command:
        """The command, built the way typer builds a registered one (a ``Typer`` is a group)."""
        found = getattr(importlib.import_module(self.module), self.attribute)
        # pretty_exceptions_short: typer's default, which the app keeps (and shows no
        # pretty exceptions anyway: pretty_exceptions_enable=False).
        if isinstance(found, typer.Typer):
            return get_group_from_info(
                TyperInfo(found, name=name),
                pretty_exceptions_short=True,
                rich_markup_mode=group.rich_markup_mode,
                suggest_commands=group.suggest_commands,
            )
        return get_command_from_info(
            CommandInfo(name=name, callback=found),
            pretty_exceptions_short=True,
            rich_markup_mode=group.rich_markup_mode,
        )


def _at(module: str, attribute: str, summary: str) -> LazyCommand:
    return LazyCommand(f"modelward.cli.{module}", attribute, summary)


# In the order ``modelward --help`` lists them: commands, then groups of commands.
LAZY: dict[str, LazyCommand] = {
    "pull": _at("app", "pull", "Download models, verified; resumes whatever an earlier run left."),
    "status": _at(
        "app",
        "status",
        "Show each model's state, progress, missing files, what it can be used for, and where\n"
        "it is.",
    ),
    "serve": _at("app", "serve", "Run the HTTP service (API under /api/v1, OpenAPI at /docs)."),
    "demo": _at(
        "app",
        "demo",
        "Start the local hub and the service pointed at it, then pull the catalog (all but\n"
        "one model, left for you to pull from another shell).",
    ),
    "pause": _at("control", "pause", "Pause a download in the service; its partial data is kept."),
    "resume": _at("control", "resume", "Resume a paused or failed download from its partial data."),
    "cancel": _at(
        "control",
        "cancel",
        "Cancel a download and delete its partial data (verified files stay).",
    ),
    "priority": _at(
        "control",
        "priority",
        "Set how urgently a model is wanted; higher priorities get connections first.",
    ),
    "limit": _at(
        "control",
        "limit",
        "Set (or show) the bandwidth cap of the running service; takes effect at once.",
    ),
    "queue": _at(
        "control",
        "queue",
        "Show the service's download queue, in the order it gives out connections (with no\n"
        "service: the stored queue the next one continues).",
    ),
    "verify": _at(
        "health", "verify", "Check downloaded models for damage; exit 1 when any is unhealthy."
    ),
    "repair": _at(
        "health",
        "repair",
        "Fully check a model, quarantine damaged files and fetch only their damaged blocks.",
    ),
    "health": _at(
        "health",
        "health",
        "The system health report: each model's condition, the overall score, disk usage and\n"
        "what to do next; exit 1 when a model is corrupted.",
    ),
    "suggest": _at(
        "availability",
        "suggest",
        "What a job for MODEL should do now (MODEL itself when it is here and fits), every\n"
        "other model that takes the job, and those left out with why.",
    ),
    "audit": _at("ops", "audit", "Show the audit log: who changed what, newest first."),
    "adopt": _at(
        "adopt",
        "adopt",
        "Verify each file in PATH against the source's checksums and bring the good ones into\n"
        "the store (never a second copy on the same disk); only the rest is downloaded.",
    ),
    "analytics": _at(
        "analytics",
        "analytics",
        "Usage per model (uses, rate, time, success), peak hours, performance findings and\n"
        "the models worth keeping ready; download success rate and retries per model, "
        "integrity\nchecks per day, and how often each fallback strategy and alternative "
        "served a job.",
    ),
    "pin": _at("storage", "pin", "Keep MODEL on this machine: cleanup never removes it."),
    "unpin": _at("storage", "unpin", "Let cleanup consider MODEL again."),
    "rm": _at(
        "storage", "rm", "Remove MODEL's files from the store (what other models share stays)."
    ),
    "cleanup": _at(
        "storage",
        "cleanup",
        "Remove models nobody used lately, least valuable first; never a pinned one, one in\n"
        "use, one downloading, or one that queued jobs wait for.",
    ),
    "quarantine": _at("health", "quarantine_app", "Files set aside as damaged."),
    "request": _at(
        "requests",
        "request_app",
        "Generation jobs: run one, list the queued ones, show or cancel one.",
    ),
    "update": _at(
        "updates",
        "update_app",
        "Model versions: check upstream, apply beside the old one, roll back.",
    ),
    "service": _at(
        "background",
        "service_app",
        "The background service: whether one runs for this MODELWARD_HOME, and stopping it.",
    ),
    "token": _at("ops", "token_app", "Access tokens for the service: read, operate or admin."),
    "fleet": _at(
        "fleet",
        "fleet_app",
        "The fleet: every node, the models on each, and actions asked of all of them.",
    ),
    "mirror": _at(
        "mirror",
        "mirror_app",
        "The team mirror (an S3-compatible bucket): push a model, list, verify, prune.",
    ),
    "hub": _at("app", "hub_app", "The bundled local hub (synthetic Wan2.2-shaped repos)."),
}


class LazyGroup(ReportingGroup):
    """The root command, whose commands (:data:`LAZY`) are built when they run."""

    _listing = False  # while the help is written: summaries, not imports

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in the order the help lists them."""
        return [*LAZY, *(name for name in self.commands if name not in LAZY)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, built (its module imported) now if it was not yet."""
        if cmd_name in self.commands or cmd_name not in LAZY:
            return self.commands.get(cmd_name)
        lazy = LAZY[cmd_name]
        if self._listing:
            return TyperCommand(name=cmd_name, help=lazy.summary)
        command = self.commands[cmd_name] = lazy.load(cmd_name, self)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command ``args`` name; a typo is answered with the names close to it."""
        try:
            return super().resolve_command(ctx, args)
        except UsageError as error:
            close = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and "Did you mean" not in error.message:
                said = ", ".join(repr(name) for name in close)
                error.message = f"{error.message.rstrip('.')}. Did you mean {said}?"
            raise

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help, listing the commands by their summaries (nothing imported or built)."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
