"""Action codes (``modelward.actions``) as the commands a person types; the service has
the same table as routes (``modelward.api.actions``)."""

from __future__ import annotations

from modelward.actions import Action

_COMMANDS: dict[Action, str] = {
    Action.DOWNLOAD: "modelward pull {model_id}",
    Action.REPAIR: "modelward repair {model_id}",
    Action.VERIFY: "modelward verify {model_id}",
    Action.VERIFY_FULL: "modelward verify {model_id} --full",
    Action.RESUME: "modelward resume {model_id}",
    Action.CANCEL: "modelward cancel {model_id}",
    Action.UPDATE: "modelward update apply {model_id}",
    Action.ROLLBACK: "modelward update rollback {model_id}",
    Action.PRUNE: "modelward update prune {model_id}",
    Action.REMOVE: "modelward rm {model_id}",
    Action.CLEANUP: "modelward cleanup",
    Action.LIST_QUARANTINE: "modelward quarantine list",
    Action.PURGE_QUARANTINE: "modelward quarantine purge",
    Action.DEMO: "modelward demo",
}


def command_for(action: str, model_id: str | None) -> str | None:
    """The command line that carries out ``action`` (None: none does, e.g. stray files a
    person removes by hand, or the action needs a model and none is named)."""
    try:
        template = _COMMANDS.get(Action(action))
    except ValueError:
        return None
    if template is None or ("{model_id}" in template and not model_id):
        return None
    return template.format(model_id=model_id)


def step_line(text: str, action: str | None, model_id: str | None) -> str:
    """A step as a person reads it in a terminal: its words, then the command that does it."""
    command = command_for(action, model_id) if action else None
    return f"{text}: `{command}`" if command else text
