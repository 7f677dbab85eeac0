"""The CLI's one way to the service: typed calls that answer the API's own schemas.

Every answer is parsed into the pydantic model of ``api/schemas.py`` the route declares, so
the CLI shows what the service derived and nothing else. Every failure the service reports
(or a service that stops answering) becomes one ``ServiceError`` carrying the service's
``code``, ``message``, ``hint`` and HTTP status; no service at all is
``ServiceNotRunningError``.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from modelward._version import __version__
from modelward.api.schemas import (
    AdvicePublic,
    AuditPublic,
    BandwidthPublic,
    CancelPublic,
    CleanupIn,
    CleanupPublic,
    DownloadAccepted,
    DownloadControlPublic,
    DownloadProgressPublic,
    FleetActionIn,
    FleetActionPublic,
    FleetActionsPublic,
    FleetPublic,
    GenerateIn,
    GeneratePublic,
    HealthzPublic,
    IntegrityPublic,
    ModelBandwidthPublic,
    ModelsPublic,
    ModelStatusesPublic,
    ModelStatusPublic,
    PinPublic,
    PriorityPublic,
    PrunePublic,
    QueuedRequestPublic,
    QueuePublic,
    QueueResultPublic,
    RegisteredModelPublic,
    RepairPublic,
    RequirementsIn,
    SettingsPublic,
    SystemHealthReportPublic,
    UpdateCheckPublic,
    UpdateRecordPublic,
    UpdateResultPublic,
)
from modelward.cli.discovery import TIMEOUT_S, find_service, not_running
from modelward.errors import ServiceError, UnknownModelError
from modelward.settings import Settings
from modelward.transfer import Priority

EVENTS_READ_TIMEOUT_S = 60.0  # the stream sends a keep-alive every 15 s
CONNECTED = "connected"
"""The pseudo-event ``events()`` yields once the stream is subscribed."""

M = TypeVar("M", bound=BaseModel)
_REQUESTS = TypeAdapter(list[QueuedRequestPublic])


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """One frame of the service's event stream."""

    type: str
    model_id: str | None = None
    at: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def progress(self) -> DownloadProgressPublic:
        """The figures of a ``download.progress`` frame."""
        return DownloadProgressPublic.model_validate(self.data)


class ServiceClient:
    """A client of one running service; use as a context manager."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_s: float | None = TIMEOUT_S,
        token_hint: str = "Set MODELWARD_TOKEN to the token the service printed at start.",
        home: Path | None = None,
    ) -> None:
        # Imported here: api.guard brings FastAPI, which a command that finds no service
        # running (the in-process path) never needs.
        from modelward.api.guard import ACTOR_HEADER

        headers = {"User-Agent": f"modelward-cli/{__version__}", ACTOR_HEADER: cli_actor()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self.home = home
        """The MODELWARD_HOME the service uses (where its log and token are)."""
        self._timeout_s = timeout_s
        self._token_hint = token_hint
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s)

    @classmethod
    def discover(cls, settings: Settings, timeout_s: float | None = TIMEOUT_S) -> ServiceClient:
        """The service registered in ``settings.home``, with its API token (MODELWARD_TOKEN,
        else the service's own token file); ServiceNotRunningError when there is none."""
        info = find_service(settings.home)
        token_file = info.token_file(settings.home)
        token = settings.api_token or read_token(token_file)
        if settings.api_token:
            where = "the token in MODELWARD_TOKEN was refused"
        elif token:
            where = f"the token in {token_file} was refused"
        else:
            where = f"there is no MODELWARD_TOKEN and no {token_file}"
        hint = (
            f"{where.capitalize()}; set MODELWARD_TOKEN to the token the service printed "
            "at start (it keeps it in its MODELWARD_HOME/api-token)."
        )
        return cls(info.url, token, timeout_s=timeout_s, token_hint=hint, home=info.home)

    # -- models and downloads ------------------------------------------------------------

    def healthz(self) -> HealthzPublic:
        """Whether the service is up, and its version."""
        return self._typed(HealthzPublic, "GET", "/healthz")

    def models(self) -> ModelsPublic:
        """Every model in the service's catalog."""
        return self._typed(ModelsPublic, "GET", "/api/v1/models")

    def statuses(self) -> list[ModelStatusPublic]:
        """Every catalog model's status, as the service derives it."""
        return self._typed(ModelStatusesPublic, "GET", "/api/v1/models/status").data

    def model_status(self, model_id: str) -> ModelStatusPublic:
        """One model's status."""
        return self._typed(ModelStatusPublic, "GET", _model(model_id, "status"))

    def register_repo(
        self, repo_id: str, revision: str | None, include: list[str], exclude: list[str]
    ) -> RegisteredModelPublic:
        """Make a Hub repo a remembered catalog entry of the service; answers the entry."""
        body = {"repo_id": repo_id, "revision": revision, "include": include, "exclude": exclude}
        return self._typed(RegisteredModelPublic, "POST", "/api/v1/models", body)

    def download(self, model_id: str) -> DownloadAccepted:
        """Start (or join) the model's download in the service."""
        return self._typed(DownloadAccepted, "POST", _model(model_id, "download"))

    def download_progress(self, model_id: str) -> DownloadProgressPublic:
        """The model's latest download, as the service tracks it."""
        return self._typed(DownloadProgressPublic, "GET", _model(model_id, "download"))

    def pause(self, model_id: str) -> DownloadControlPublic:
        """Pause the model's download (partial data kept)."""
        return self._typed(DownloadControlPublic, "POST", _model(model_id, "pause"))

    def resume(self, model_id: str) -> DownloadControlPublic:
        """Resume the model's download from its partial data."""
        return self._typed(DownloadControlPublic, "POST", _model(model_id, "resume"))

    def cancel(self, model_id: str) -> CancelPublic:
        """Cancel the model's download and delete its partial data."""
        return self._typed(CancelPublic, "POST", _model(model_id, "cancel"))

    def set_priority(self, model_id: str, priority: Priority) -> PriorityPublic:
        """Change how urgently the model is wanted."""
        body = {"priority": priority.value}
        return self._typed(PriorityPublic, "PUT", _model(model_id, "priority"), body)

    def queue(self) -> QueuePublic:
        """The download queue, in the order connections are given out."""
        return self._typed(QueuePublic, "GET", "/api/v1/queue")

    def bandwidth(self) -> BandwidthPublic:
        """The cap on the total download rate."""
        return self._typed(BandwidthPublic, "GET", "/api/v1/bandwidth")

    def set_bandwidth(self, limit_bytes_per_s: int) -> BandwidthPublic:
        """Cap the total rate (0 = unlimited); running transfers follow at once."""
        body = {"limit_bytes_per_s": limit_bytes_per_s}
        return self._typed(BandwidthPublic, "PUT", "/api/v1/bandwidth", body)

    def set_model_bandwidth(self, model_id: str, limit_bytes_per_s: int) -> ModelBandwidthPublic:
        """Cap one model's rate (0 removes its own cap)."""
        body = {"limit_bytes_per_s": limit_bytes_per_s}
        return self._typed(ModelBandwidthPublic, "PUT", _model(model_id, "bandwidth"), body)

    def settings(self) -> SettingsPublic:
        """The service's settings (where its store is, which hub it uses)."""
        return self._typed(SettingsPublic, "GET", "/api/v1/settings")

    # -- health, storage, updates ----------------------------------------------------------

    def verify(self, model_id: str, level: str) -> IntegrityPublic:
        """Check the model's files at ``level``."""
        path = _model(model_id, "verify")
        return self._typed(IntegrityPublic, "POST", path, params={"level": level})

    def health_report(self) -> SystemHealthReportPublic:
        """Every model's condition, the overall score and what to do next."""
        return self._typed(SystemHealthReportPublic, "GET", "/api/v1/health")

    def repair(self, model_id: str) -> RepairPublic:
        """Verify fully and fetch what is damaged (waits until done)."""
        return self._typed(RepairPublic, "POST", _model(model_id, "repair"))

    def pin(self, model_id: str, pinned: bool) -> PinPublic:
        """Pin or unpin the model."""
        return self._typed(PinPublic, "PUT" if pinned else "DELETE", _model(model_id, "pin"))

    def remove(self, model_id: str, *, dry_run: bool) -> CleanupPublic:
        """Remove the model's files (or say what would go)."""
        params = {"dry_run": "true" if dry_run else "false"}
        return self._typed(CleanupPublic, "DELETE", _model(model_id), params=params)

    def cleanup(self, request: CleanupIn) -> CleanupPublic:
        """Remove unused models (a dry run unless the request says otherwise)."""
        return self._typed(CleanupPublic, "POST", "/api/v1/cleanup", request.model_dump())

    def update_check(self, model_id: str) -> UpdateCheckPublic:
        """Ask upstream whether a newer version exists."""
        return self._typed(UpdateCheckPublic, "GET", _model(model_id, "update"))

    def update_apply(self, model_id: str) -> UpdateResultPublic:
        """Fetch the newest version beside the served one and switch (waits until done)."""
        return self._typed(UpdateResultPublic, "POST", _model(model_id, "update"))

    def rollback(self, model_id: str) -> UpdateResultPublic:
        """Serve the previous version again."""
        return self._typed(UpdateResultPublic, "POST", _model(model_id, "rollback"))

    def prune(self, model_id: str) -> PrunePublic:
        """Remove the previous version kept for a rollback."""
        return self._typed(PrunePublic, "DELETE", _model(model_id, "versions/previous"))

    def set_update_policy(self, model_id: str, policy: str | None) -> UpdateRecordPublic:
        """Set (None: clear) the model's own update policy."""
        body = {"policy": policy}
        return self._typed(UpdateRecordPublic, "PUT", _model(model_id, "update-policy"), body)

    # -- availability and generation requests --------------------------------------------

    def advice(self, model_id: str, req: RequirementsIn) -> AdvicePublic:
        """The whole answer for a job: the requested model's fit, what to do now, the
        models that take the job and those left out (with why)."""
        params = _requirement_params(req)
        return self._typed(AdvicePublic, "GET", _model(model_id, "advice"), params=params)

    def generate(self, job: GenerateIn) -> GeneratePublic | QueueResultPublic:
        """Run a demo job (200), or queue it for its model (202)."""
        response = self._send("POST", "/api/v1/generate", job.model_dump(mode="json"))
        if response.status_code == 202:
            return _parse(QueueResultPublic, response.json())
        return _parse(GeneratePublic, response.json())

    def requests(self, model_id: str | None = None) -> list[QueuedRequestPublic]:
        """Generation jobs waiting for their model, oldest first."""
        params = {"model_id": model_id} if model_id else None
        answer = self._send("GET", "/api/v1/requests", params=params).json()
        try:
            return _REQUESTS.validate_python(answer)
        except ValidationError as exc:
            raise _not_understood(exc) from None

    def request(self, request_id: str) -> QueuedRequestPublic:
        """One generation job."""
        return self._typed(QueuedRequestPublic, "GET", _request(request_id))

    def cancel_request(self, request_id: str) -> QueuedRequestPublic:
        """Withdraw a queued generation job."""
        return self._typed(QueuedRequestPublic, "DELETE", _request(request_id))

    def audit(
        self,
        *,
        model_id: str | None = None,
        action: str | None = None,
        since: str | None = None,
        node: str | None = None,
        limit: int = 100,
    ) -> AuditPublic:
        """Recorded mutations, newest first (the service's admin token is needed)."""
        params: dict[str, object] = {
            "model": model_id,
            "action": action,
            "since": since,
            "node": node,
            "limit": limit,
        }
        return self._typed(
            AuditPublic,
            "GET",
            "/api/v1/audit",
            params={k: v for k, v in params.items() if v is not None},
        )

    # -- the fleet ----------------------------------------------------------------------

    def fleet(self) -> FleetPublic:
        """Every node of the fleet and each model across them."""
        return self._typed(FleetPublic, "GET", "/api/v1/fleet")

    def ask_fleet(self, body: FleetActionIn) -> FleetActionPublic:
        """Ask the fleet's nodes to pull, update, verify or remove a model."""
        return self._typed(FleetActionPublic, "POST", "/api/v1/fleet/actions", body.model_dump())

    def fleet_actions(self, limit: int = 20) -> FleetActionsPublic:
        """The latest fleet actions with each node's part, newest first."""
        return self._typed(
            FleetActionsPublic, "GET", "/api/v1/fleet/actions", params={"limit": limit}
        )

    # -- the event stream ---------------------------------------------------------------

    def events(self) -> Generator[ServiceEvent, None, None]:
        """The live event stream: first a ``connected`` pseudo-event once subscribed, then
        every frame until the caller stops iterating (or the service goes)."""
        timeout = httpx.Timeout(TIMEOUT_S, read=EVENTS_READ_TIMEOUT_S)
        try:
            with self._http.stream("GET", "/api/v1/events", timeout=timeout) as response:
                if response.is_error:
                    response.read()
                    raise self._error(response)
                yield from _frames(response.iter_lines())
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        raise ServiceError(
            f"the service at {self.url} closed its event stream",
            code="service-gone",
            hint="It stopped; 'modelward service status' says whether one runs.",
        )

    # -- plumbing -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _typed(
        self,
        schema: type[M],
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> M:
        return _parse(schema, self._send(method, path, body, params=params).json())

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if response.is_error:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ServiceError:
        """The service's ``{code, message, hint}``, or a plain account of the status."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and {"code", "message"} <= body.keys():
            hint = self._token_hint if response.status_code == 401 else body.get("hint")
            return ServiceError(
                str(body["message"]),
                code=str(body["code"]),
                hint=str(hint or ""),
                status_code=response.status_code,
                retryable=bool(body.get("retryable", False)),
            )
        return ServiceError(
            f"the service at {self.url} answered {response.status_code} {response.reason_phrase}",
            status_code=response.status_code,
        )

    def _transport_error(self, exc: httpx.HTTPError) -> Exception:
        if isinstance(exc, httpx.ConnectError):
            return not_running(f"nothing answers at {self.url}")
        if isinstance(exc, httpx.TimeoutException):
            waited = f" within {self._timeout_s:.0f} s" if self._timeout_s else ""
            return ServiceError(
                f"the service at {self.url} did not answer{waited}",
                code="service-timeout",
                hint="It may be busy; try again, or see 'modelward service status'.",
                retryable=True,
            )
        return ServiceError(
            f"talking to the service at {self.url} failed: {exc}",
            code="service-unreachable",
            hint="See 'modelward service status'; the service's log says more.",
        )


def _frames(lines: Iterator[str]) -> Iterator[ServiceEvent]:
    """SSE frames as events; ``: connected`` becomes the ``connected`` pseudo-event."""
    data: list[str] = []
    for line in lines:
        if line.startswith(":"):
            if line.strip() == f": {CONNECTED}":
                yield ServiceEvent(CONNECTED)
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            payload = json.loads("\n".join(data))
            data = []
            yield ServiceEvent(
                type=str(payload.get("type", "")),
                model_id=payload.get("model_id"),
                at=float(payload.get("at") or 0.0),
                data=dict(payload.get("data") or {}),
            )


def _parse(schema: type[M], answer: Any) -> M:
    try:
        return schema.model_validate(answer)
    except ValidationError as exc:
        raise _not_understood(exc) from None


def _not_understood(exc: ValidationError) -> ServiceError:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "?"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return ServiceError(
        f"the service's answer does not match this CLI's schema ({where}: {first.get('msg')})",
        code="service-version-mismatch",
        hint="The service runs another modelward version; restart it with this one "
        "('modelward service stop', then the command again).",
    )


def _requirement_params(req: RequirementsIn) -> dict[str, Any]:
    params: dict[str, Any] = {"quality": req.quality, "speed": req.speed, "inputs": req.inputs}
    if req.resolution:
        params["resolution"] = req.resolution
    if req.vram_gb is not None:
        params["vram_gb"] = str(req.vram_gb)
    return params


def _model(model_id: str, action: str = "") -> str:
    if "/" in model_id:  # no model id has one, and the service could not even route it
        raise UnknownModelError(
            f"unknown model id {model_id!r}",
            hint="Run 'modelward status' to list the model ids; 'modelward pull ORG/NAME' "
            "fetches a Hub repo.",
        )
    base = f"/api/v1/models/{quote(model_id, safe='')}"
    return f"{base}/{action}" if action else base


def _request(request_id: str) -> str:
    return f"/api/v1/requests/{quote(request_id, safe='')}"


def read_token(path: Path) -> str | None:
    """The token kept in ``path`` (a service's api-token file), or None when there is none."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def cli_actor() -> str:
    """``cli:<os user>``: who the audit log names for what this command does."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a bare container)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"
