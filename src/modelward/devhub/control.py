"""The hub's own control API, so a hub in another process can be steered by tests.

::

    GET    /_devhub/health                         {"ok": true}
    GET    /_devhub/faults                         active faults with remaining counts
    POST   /_devhub/faults                         set a plan: {"faults": [...], "seed": 0}
    DELETE /_devhub/faults                         clear all faults
    GET    /_devhub/log                            request records
    DELETE /_devhub/log                            clear the log
    POST   /_devhub/repos/{org}/{name}/bump        new commit on main -> {"commit": sha}
    GET    /_devhub/repos/{org}/{name}/manifest    files with sizes and hashes (?revision=)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from modelward.devhub.faults import FaultPlan
from modelward.devhub.http11 import Request, Response, error_response, json_response
from modelward.devhub.log import RequestRecord
from modelward.devhub.manifest import RepoManifest, manifest_dict


class Controllable(Protocol):
    """What the control API needs from a hub."""

    def set_faults(self, plan: FaultPlan) -> None: ...
    def clear_faults(self) -> None: ...
    def describe_faults(self) -> list[dict[str, Any]]: ...
    @property
    def request_log(self) -> list[RequestRecord]: ...
    def clear_log(self) -> None: ...
    def bump_commit(self, repo_id: str) -> str: ...
    def manifest(self, repo_id: str, revision: str = "main") -> RepoManifest: ...


def manifest_json(manifest: RepoManifest) -> dict[str, Any]:
    """A manifest as JSON (absolute local paths, for tests on the same machine)."""
    return manifest_dict(manifest)


async def handle_control(hub: Controllable, req: Request) -> Response:
    """Answer one ``/_devhub/...`` request."""
    seg = req.segments[1:]
    key = (req.method, seg[0] if seg else "")
    if key == ("GET", "health"):
        return json_response(200, {"ok": True})
    if key == ("GET", "faults"):
        return json_response(200, {"faults": hub.describe_faults()})
    if key == ("POST", "faults"):
        try:
            plan = FaultPlan.from_dict(json.loads(req.body or b"{}"))
        except (ValueError, TypeError, KeyError) as exc:
            return error_response(400, f"bad fault plan: {exc}")
        hub.set_faults(plan)
        return json_response(200, {"faults": hub.describe_faults()})
    if key == ("DELETE", "faults"):
        hub.clear_faults()
        return json_response(200, {"faults": []})
    if key == ("GET", "log"):
        return json_response(200, [r.to_dict() for r in hub.request_log])
    if key == ("DELETE", "log"):
        hub.clear_log()
        return json_response(200, [])
    if len(seg) == 4 and seg[0] == "repos":
        return await _repo_action(hub, req, f"{seg[1]}/{seg[2]}", seg[3])
    return error_response(404, "Not found")


async def _repo_action(hub: Controllable, req: Request, repo_id: str, action: str) -> Response:
    try:
        if (req.method, action) == ("POST", "bump"):
            commit = await asyncio.to_thread(hub.bump_commit, repo_id)
            return json_response(200, {"commit": commit})
        if (req.method, action) == ("GET", "manifest"):
            revision = req.query.get("revision", "main")
            return json_response(200, manifest_json(hub.manifest(repo_id, revision)))
    except KeyError:
        return error_response(404, f"unknown repo or revision: {repo_id}", "RepoNotFound")
    return error_response(404, "Not found")
