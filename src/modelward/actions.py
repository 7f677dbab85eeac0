"""What a person (or automation) can do about a model, named by code.

Lower layers (health, updates, availability) say *what* to do with an :class:`Action` and
the model it concerns; only the surfaces say *how*: the API turns a code into its route
(``modelward.api.actions``), the CLI into its command (``modelward.cli.actions``). So no
route string or command line is written below the surfaces, and renaming either changes
one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """One thing to do; most concern one model."""

    DOWNLOAD = "download"
    """Fetch the model (or what it lacks); a download resumes from what is on disk."""
    REPAIR = "repair"
    """Fetch the damaged blocks of damaged files again."""
    VERIFY = "verify"
    """Check the model's files (the default level)."""
    VERIFY_FULL = "verify-full"
    """Hash every file of the model."""
    RESUME = "resume"
    CANCEL = "cancel"
    """Stop a download and delete its partial data."""
    UPDATE = "update"
    """Fetch the newest version beside the one served, then switch."""
    ROLLBACK = "rollback"
    PRUNE = "prune"
    """Remove the previous version's own files."""
    REMOVE = "remove"
    """Remove one model's files."""
    CLEANUP = "cleanup"
    """Plan (and then execute) the removal of unused models."""
    LIST_QUARANTINE = "list-quarantine"
    PURGE_QUARANTINE = "purge-quarantine"
    REMOVE_STRAY_FILES = "remove-stray-files"
    """Files in a snapshot the repo does not have: a person removes them by hand."""
    DEMO = "demo"
    """The whole loop against a local hub, without internet (a command, no route)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a person does, in words, and the :class:`Action` that does it (None: done
    by hand, e.g. freeing disk); the surfaces add the route or the command."""

    text: str
    """Plain words: never a command line or a route."""
    action: Action | None = None
    model_id: str | None = None
