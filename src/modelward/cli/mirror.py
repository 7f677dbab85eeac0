"""``modelward mirror push|list|verify|prune``: the team mirror, an S3-compatible bucket.

These run in this process, not in the service: they read the store's verified blobs and
talk to the bucket directly (boto3, configured the standard AWS way). What they change in
the bucket (push, prune, verify --remove-bad) is recorded in the audit log as the CLI user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
from rich.table import Table

from modelward.cli.ops import audited_here
from modelward.cli.options import CatalogOpt, JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    console,
    fail,
    print_table,
    progress_bar,
    spinner,
)
from modelward.errors import ConfigError, MirrorError, MirrorObjectError, ModelwardError
from modelward.mirror.auto import ACTION as PUSH_ACTION
from modelward.mirror.auto import first_mirror
from modelward.mirror.inspect import (
    BLOB_GRACE_S,
    MirrorListing,
    ProblemKind,
    PrunePlan,
    VerifyReport,
    execute_prune,
    list_published,
    plan_prune,
    remove_bad,
    verify_mirror,
)
from modelward.mirror.publish import PART_BYTES_ENV, PublishResult, describe, publish_model
from modelward.ops.since import parse_since
from modelward.settings import Settings
from modelward.sources.bucket import MirrorBucket
from modelward.units import format_size

mirror_app = typer.Typer(
    help="The team mirror (an S3-compatible bucket): push a model, list, verify, prune.",
    no_args_is_help=True,
)
ModelArg = Annotated[str, typer.Argument(help="The model id to publish.", show_default=False)]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="The mirror, s3://BUCKET/PREFIX (default: the model's first catalog mirror, "
        "else the first of MODELWARD_MIRRORS).",
        show_default=False,
    ),
]
MirrorOpt = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        help="The mirror, s3://BUCKET/PREFIX (default: the first of MODELWARD_MIRRORS).",
        show_default=False,
    ),
]
_WRONG = (ProblemKind.CHECKSUM_MISMATCH, ProblemKind.SIZE_MISMATCH, ProblemKind.TRUNCATED)
_NO_MIRROR_HINT = (
    "Name one with {option} s3://BUCKET/PREFIX, or set MODELWARD_MIRRORS=s3://BUCKET/PREFIX "
    "(and the AWS_* credentials and AWS_ENDPOINT_URL of the store)."
)


def _fail(error: ModelwardError) -> typer.Exit:
    """Print the error; a mirror that refuses for good (credentials, a missing bucket, a
    model not verified here) is bad input, exit 2; the rest exits 1."""
    shown = fail(error)
    refused = isinstance(error, MirrorError) and not isinstance(error, MirrorObjectError)
    return typer.Exit(EXIT_BAD_INPUT) if refused and not error.retryable else shown


@contextmanager
def _explained() -> Iterator[None]:
    try:
        yield
    except ModelwardError as error:
        raise _fail(error) from None


def _bucket(address: str | None, settings: Settings, option: str) -> MirrorBucket:
    address = address or next(iter(settings.mirrors), None)
    if address is None:
        raise ConfigError("no team mirror is set", hint=_NO_MIRROR_HINT.format(option=option))
    return MirrorBucket.at(address, settings.s3_endpoint_url)


def _part_bytes() -> int | None:
    raw = os.environ.get(PART_BYTES_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{PART_BYTES_ENV}={raw!r} is not a number of bytes")
    return int(raw)


def _say(line: str) -> None:
    """One line of results on stdout, as it is (never wrapped: it may be copied)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@mirror_app.command("push")
def push(
    model: ModelArg,
    to: ToOpt = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Publish MODEL's verified files to the team mirror: only the blobs it lacks are
    uploaded (an interrupted push continues), then the manifest, then the ref."""
    setup_logging(verbose)
    with _explained():
        result = _push(build_settings(catalog), model, to)
    if as_json:
        _print_json(dataclasses.asdict(result))
    else:
        _say(f"pushed {describe(result)}")


def _push(settings: Settings, model: str, to: str | None) -> PublishResult:
    # Imported here: the store and catalog are this command's only (and its heaviest) need.
    from modelward.transfer.base import model_manager_for

    manager = model_manager_for(settings)
    spec = manager.spec(model)
    bucket = _bucket(to or first_mirror(spec, settings), settings, "--to")
    part_bytes = _part_bytes()
    params = {"mirror": str(bucket)}
    with audited_here(settings, PUSH_ACTION, model_id=model, params=params), _bar(model) as bar:
        return publish_model(
            bucket,
            manager,
            model,
            publisher=settings.node_name,
            on_progress=bar,
            part_bytes=part_bytes,
        )


class _Bar:
    """The push's bar: bytes in the bucket of the bytes to upload (on a terminal only)."""

    def __init__(self, model: str) -> None:
        self.progress = progress_bar(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        self.task = self.progress.add_task(f"{model} → mirror", total=None)

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total or None)


@contextmanager
def _bar(model: str) -> Iterator[_Bar]:
    bar = _Bar(model)
    with bar.progress:
        yield bar


@mirror_app.command("list")
def list_(mirror: MirrorOpt = None, as_json: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """What the mirror holds: each published repo commit, the refs naming it, its files,
    its size and who published it when."""
    setup_logging(verbose)
    with _explained():
        bucket = _bucket(mirror, build_settings(), "--mirror")
        listing = list_published(bucket)
    if as_json:
        _print_json(dataclasses.asdict(listing))
        return
    _print_listing(listing)


def _print_listing(listing: MirrorListing) -> None:
    table = Table(title=f"{listing.mirror}: {len(listing.commits)} published commits")
    for column in ("repo", "commit", "refs", "files", "size", "published by", "at"):
        table.add_column(column)
    for c in listing.commits:
        at = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.published_at))
        refs = ", ".join(c.refs) or "-"
        size = format_size(c.size_bytes)
        table.add_row(c.repo_id, c.commit[:12], refs, str(c.files), size, c.published_by or "-", at)
    print_table(table)
    for text in listing.unreadable:
        _say(f"unreadable manifest: {text}")


@mirror_app.command("verify")
def verify(
    full: Annotated[
        bool, typer.Option("--full", help="Also read every blob once and check its checksum.")
    ] = False,
    remove: Annotated[
        bool,
        typer.Option(
            "--remove-bad",
            help="Delete the blobs found wrong, so the next push of a model uploads them again.",
        ),
    ] = False,
    mirror: MirrorOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check the mirror's objects against its manifests (present, at their size; with
    --full, their checksums); exit 1 when any is wrong."""
    setup_logging(verbose)
    settings = build_settings()
    with _explained():
        bucket = _bucket(mirror, settings, "--mirror")
        with spinner(f"checking {bucket}" + (": reading every blob" if full else "")):
            report = verify_mirror(bucket, full=full)
        removed: list[str] = []
        if remove and not report.ok:
            with audited_here(settings, "mirror.remove-bad", params={"mirror": str(bucket)}):
                removed = remove_bad(bucket, report)
    if as_json:
        _print_json(dataclasses.asdict(report) | {"ok": report.ok, "removed": removed})
    else:
        _print_report(report, removed)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _print_report(report: VerifyReport, removed: list[str]) -> None:
    read = f", {format_size(report.bytes_read)} read" if report.full else ""
    checked = f"{report.manifests} manifests, {report.blobs} blobs{read}"
    if report.ok:
        _say(f"{report.mirror}: all intact ({checked})")
        return
    _say(f"{report.mirror}: {len(report.problems)} problems ({checked})")
    for p in report.problems:
        named = f" (in {', '.join(p.manifests)})" if p.manifests else ""
        where = p.key or "manifest"
        _say(f"  {p.kind.value}: {where}: {p.detail}{named}")
    if removed:
        _say(f"removed {len(removed)} bad blobs")
    hint = (
        "Push the models named above again from a node that has them verified "
        "(modelward mirror push MODEL); "
    )
    if not removed and any(p.kind in _WRONG for p in report.problems):
        hint += "remove the wrong objects first (modelward mirror verify --full --remove-bad), "
    hint += "pulls fetch these files from the Hub meanwhile."
    console.print(f"[bold]next step:[/] {escape(hint)}", highlight=False)


@mirror_app.command("prune")
def prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would go; delete nothing.")
    ] = False,
    grace: Annotated[
        str,
        typer.Option(
            help="Keep unreferenced blobs younger than this (a push writes its manifest "
            "last), e.g. 1h, 30m, 0s.",
        ),
    ] = f"{int(BLOB_GRACE_S)}s",
    mirror: MirrorOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Remove blobs no manifest names and uploads abandoned for a day."""
    setup_logging(verbose)
    settings = build_settings()
    with _explained():
        now = time.time()
        grace_s = max(0.0, now - parse_since(grace, now))
        bucket = _bucket(mirror, settings, "--mirror")
        plan = plan_prune(bucket, grace_s=grace_s, now=now)
        if not dry_run:
            params = {"mirror": str(bucket), "blobs": len(plan.blobs), "bytes": plan.size_bytes}
            with audited_here(settings, "mirror.prune", params=params):
                execute_prune(bucket, plan)
    if as_json:
        _print_json(dataclasses.asdict(plan) | {"dry_run": dry_run, "size_bytes": plan.size_bytes})
        return
    _print_plan(plan, dry_run)


def _print_plan(plan: PrunePlan, dry_run: bool) -> None:
    for name, size in plan.blobs:
        _say(f"  blob {name}  {format_size(size)}")
    for u in plan.uploads:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(u.initiated))
        line = f"  unfinished upload of {u.key} (started {started})  {format_size(u.size_bytes)}"
        _say(line)
    verb = "would free" if dry_run else "freed"
    summary = (
        f"{plan.mirror}: {verb} {format_size(plan.size_bytes)} ({len(plan.blobs)} blobs, "
        f"{len(plan.uploads)} unfinished uploads)"
    )
    if plan.kept_recent:
        summary += f"; kept {plan.kept_recent} unreferenced blobs younger than the grace period"
    _say(summary)
