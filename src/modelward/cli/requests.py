"""``modelward request``: run a generation job through the running service (the demo
generator), and see or withdraw the jobs queued for models on their way."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table

from modelward.api.schemas import GenerateIn, GeneratePublic, QueuedRequestPublic, QueueResultPublic
from modelward.availability.requirements import (
    GenerationRequirements,
    Level,
    Speed,
    check_image,
    job_inputs,
)
from modelward.cli.actions import step_line
from modelward.cli.client import ServiceClient
from modelward.cli.control import call_service
from modelward.cli.headstart import serve_args
from modelward.cli.options import CatalogOpt, JsonOpt, VerboseOpt, build_settings, setup_logging
from modelward.cli.output import console, err_console, fail, print_path, print_table, status_line
from modelward.cli.where import service_for_work
from modelward.errors import ModelwardError

request_app = typer.Typer(
    help="Generation jobs: run one, list the queued ones, show or cancel one.",
    no_args_is_help=True,
)

POLL_S = 1.0
DONE_STATES = ("released", "expired", "cancelled")
STUCK_DOWNLOADS = ("failed", "paused", "cancelled")


def _service(catalog: list[Path] | None, verbose: bool) -> ServiceClient:
    """The service runs jobs: the running one, or one started in the background."""
    setup_logging(verbose)
    return service_for_work(build_settings(catalog), serve_args(catalog, None))


@request_app.command("run")
def run(
    model: Annotated[str, typer.Argument(help="The model the job asks for.")],
    prompt: Annotated[str, typer.Option(help="What to generate.")] = "",
    image: Annotated[
        str | None, typer.Option(help="Input image file (or http(s) URL), for image-to-video.")
    ] = None,
    quality: Annotated[str, typer.Option(help="low, medium or high.")] = "high",
    speed: Annotated[str, typer.Option(help="slow, medium or fast.")] = "medium",
    resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT.")] = None,
    vram: Annotated[float | None, typer.Option("--vram", help="GB of GPU memory.", min=0.1)] = None,
    queue: Annotated[bool, typer.Option(help="Queue the job when its model is on its way.")] = True,
    wait: Annotated[
        bool, typer.Option(help="With a queued job: wait for its model, then run it.")
    ] = False,
    ttl: Annotated[float, typer.Option(help="Seconds a queued job may wait.", min=1)] = 6 * 3600,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run one job on MODEL, an alternative, or a labelled mock; or queue it."""
    try:
        # Checked here, before anything is sent: the service reads the image by its path.
        given = job_inputs(prompt, image)
        GenerationRequirements(
            quality=cast(Level, quality),
            speed=cast(Speed, speed),
            inputs=given,
            resolution=resolution,
        )  # refuses a bad quality, speed or resolution with the accepted values
        inputs = sorted(given)
        image = check_image(image, base=Path.cwd()) if image else None
    except ModelwardError as error:
        raise fail(error) from None
    fields: dict[str, Any] = {
        "model_id": model,
        "prompt": prompt,
        "image": image,
        "queue": queue,
        "ttl_s": ttl,
        "requirements": {
            "quality": quality,
            "speed": speed,
            "inputs": inputs,
            "resolution": resolution,
            "vram_gb": vram,
        },
    }
    try:
        job = GenerateIn.model_validate(fields)
        with _service(catalog, verbose) as service:
            answer = service.generate(job)
            if isinstance(answer, QueueResultPublic) and wait and answer.state == "queued":
                final = _wait_for_release(service, answer, quiet=as_json)
                if final.state != "released":
                    raise ModelwardError(
                        f"request {final.request_id} ended {final.state} before {model} was ready",
                        hint=f"See `modelward status {model}`; run the job again later.",
                    )
                answer = service.generate(job.model_copy(update={"queue": False}))
    except ModelwardError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        return
    _print_answer(answer)


@request_app.command("list")
def list_requests(
    model: Annotated[str | None, typer.Option(help="Only this model's jobs.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Jobs waiting for their model, oldest first."""
    pending = call_service(catalog, verbose, lambda s: s.requests(model))
    if as_json:
        payload = [r.model_dump(mode="json") for r in pending]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not pending:
        console.print("no job is waiting for a model.")
        return
    table = Table(title="queued generation jobs")
    for column in ("request", "model", "position", "waiting", "expires in", "prompt"):
        table.add_column(column)
    now = time.time()
    for r in pending:
        table.add_row(
            r.request_id,
            r.model_id,
            str(r.position),
            f"{now - r.created_at:.0f} s",
            f"{max(0.0, r.expires_at - now) / 60:.0f} min",
            str(r.payload.get("prompt", ""))[:60],
        )
    print_table(table)


@request_app.command("show")
def show(
    request_id: Annotated[str, typer.Argument(help="The id `request run` printed.")],
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """One job's state (queued, released, expired, cancelled) as JSON."""
    found = call_service(catalog, verbose, lambda s: s.request(request_id))
    sys.stdout.write(found.model_dump_json(indent=2) + "\n")


@request_app.command("cancel")
def cancel(
    request_id: Annotated[str, typer.Argument(help="The id `request run` printed.")],
    catalog: CatalogOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Withdraw a queued job."""
    found = call_service(catalog, verbose, lambda s: s.cancel_request(request_id))
    console.print(f"request {found.request_id} is {found.state}.")


def _wait_for_release(
    service: ServiceClient, queued: QueueResultPublic, *, quiet: bool
) -> QueuedRequestPublic:
    request_id = queued.request_id or ""
    model = queued.model_id
    shown = None if quiet else status_line(f"waiting for {model}")
    if shown is not None:
        shown.start()
    try:
        while True:
            found = service.request(request_id)
            if found.state in DONE_STATES:
                return found
            progress = service.download_progress(model)
            if progress.status in STUCK_DOWNLOADS:
                why = progress.error_message or progress.status.value
                raise ModelwardError(
                    f"{model}'s download is {progress.status.value} ({why}); request "
                    f"{request_id} stays queued until it expires",
                    hint=f"`modelward resume {model}` or `modelward pull {model}`, then "
                    f"`modelward request show {request_id}`.",
                )
            eta = progress.eta_seconds
            if shown is not None:
                shown.update(
                    f"waiting for {model}: {progress.progress_percent:.1f}%"
                    + (f", about {eta:.0f} s left" if eta is not None else "")
                )
            time.sleep(POLL_S)
    finally:
        if shown is not None:
            shown.stop()


def _print_answer(answer: GeneratePublic | QueueResultPublic) -> None:
    if isinstance(answer, QueueResultPublic):
        wait = answer.estimated_wait
        console.print(
            f"[bold]queued[/] as {answer.request_id} (position {answer.position}): "
            f"{answer.message}",
            highlight=False,
        )
        if wait is not None and wait.seconds is not None:
            console.print(
                f"  ready in about {wait.seconds:.0f} s "
                f"({wait.low_seconds or 0:.0f}-{wait.high_seconds or 0:.0f} s)"
            )
        console.print(f"  `modelward request show {answer.request_id}` follows it.")
        return
    if answer.is_mock:
        err_console.print(f"[bold yellow]MOCK[/]: {answer.message}", highlight=False)
    elif answer.used_model is None:
        err_console.print(f"[yellow]not run[/]: {answer.message}", highlight=False)
    else:
        console.print(f"[green]{answer.message}[/]", highlight=False)
    for step in answer.strategy.steps if answer.strategy else []:
        line = step_line(step.text, step.action, step.model_id)
        console.print(f"  step: {line}", highlight=False, markup=False)
    if answer.output_path:
        print_path("  output", answer.output_path)
    if answer.upgrade:
        upgrade = step_line(answer.upgrade.text, answer.upgrade.action, answer.upgrade.model_id)
        console.print(f"  upgrade: {upgrade}", highlight=False, markup=False)
