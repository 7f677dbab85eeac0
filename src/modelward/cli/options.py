"""Options every command accepts after its name, and how they become Settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelward.errors import ConfigError

if TYPE_CHECKING:
    from modelward.settings import Settings

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--catalog",
        help="Catalog file adding to or overriding the built-in models "
        "(repeatable; MODELWARD_CATALOG works too).",
        exists=True,
        dir_okay=False,
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Store root (default: HF_HUB_CACHE, else HF_HOME/hub).", file_okay=False
    ),
]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint", help="Hub endpoint (default: HF_ENDPOINT).")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log decisions (retries, resumes) to stderr.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        help="Only files matching this glob, for ORG/NAME arguments (repeatable), e.g. '*.json'.",
        show_default=False,
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        help="Leave out files matching this glob, for ORG/NAME arguments (repeatable).",
        show_default=False,
    ),
]


def check_scale(value: str) -> str:
    """Refuse a local-hub scale that is neither a size (8MB, 2GB) nor a named one."""
    from modelward.devhub.sizes import parse_size  # the hub loads only when it is used

    try:
        parse_size(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def build_settings(
    catalog: list[Path] | None = None,
    cache_dir: Path | None = None,
    endpoint: str | None = None,
    **overrides: object,
) -> Settings:
    """Read the environment once and apply the command's options on top."""
    from modelward.settings import Settings  # pydantic-settings: not for --help

    base = Settings.from_env()
    return base.with_changes(
        catalog_files=(*base.catalog_files, *(catalog or ())),
        cache_dir=cache_dir,
        endpoint=endpoint,
        **overrides,
    )


def setup_logging(verbose: bool) -> None:
    """Quiet by default; ``-v`` shows modelward's decisions through rich."""
    from rich.logging import RichHandler  # only once a command runs

    root = logging.getLogger("modelward")
    root.handlers[:] = [RichHandler(show_path=False, rich_tracebacks=False)]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False
