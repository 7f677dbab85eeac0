"""The Hub's HTTP protocol over a ``RepoRegistry``: metadata, tree, resolve, CDN.

::

    GET      /api/models/{org}/{name}[/revision/{rev}]      repo info with siblings
    GET      /api/models/{org}/{name}/tree/{rev}[/{path}]   file listing (?recursive=true)
    HEAD|GET /{org}/{name}/resolve/{rev}/{path}             LFS: 302 to the CDN; else bytes
    HEAD|GET /cdn-lfs/{sha256}?repo=..&file=..              LFS bytes, Range, If-Range
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from modelward.devhub.http11 import FileBody, Request, Response, error_response, json_response
from modelward.devhub.manifest import ManifestFile, RepoManifest
from modelward.devhub.manners import UrlSigner
from modelward.devhub.ranges import UnsatisfiableError, if_range_holds, resolve_range
from modelward.devhub.registry import RepoRegistry, RepoState

_EPOCH = datetime(2025, 7, 28, 12, 0, tzinfo=UTC)


def _timestamp(index: int) -> str:
    return (_EPOCH + timedelta(days=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def cdn_etag(sha256: str) -> str:
    """The CDN's opaque ETag for an LFS object (deliberately not its sha256)."""
    return hashlib.md5(sha256.encode(), usedforsecurity=False).hexdigest()


def serve_bytes(req: Request, entry: ManifestFile, etag: str, headers: dict[str, str]) -> Response:
    """200/206/416 for a file's bytes, honouring one ``Range`` and ``If-Range``."""
    quoted = f'"{etag}"'
    base = {
        **headers,
        "ETag": quoted,
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
    }
    range_header = req.headers.get("range")
    if not if_range_holds(req.headers.get("if-range"), quoted):
        range_header = None
    try:
        byte_range = resolve_range(range_header, entry.size)
    except UnsatisfiableError:
        return Response(416, {**base, "Content-Range": f"bytes */{entry.size}"})
    if byte_range is None:
        return Response(200, base, file=FileBody(entry.local_path, 0, entry.size))
    base["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{entry.size}"
    body = FileBody(entry.local_path, byte_range.start, byte_range.length)
    return Response(206, base, file=body)


class HubRoutes:
    """Answers Hub protocol requests; ``cdn_base`` is where LFS redirects point."""

    def __init__(
        self, registry: RepoRegistry, cdn_base: str, signer: UrlSigner | None = None
    ) -> None:
        self.registry = registry
        self.cdn_base = cdn_base.rstrip("/")
        self.signer = signer  # when set, CDN URLs carry an expiring signature

    def handle(self, req: Request) -> Response:
        """Route one request; unknown paths get a 404."""
        seg = req.segments
        if req.method not in ("GET", "HEAD"):
            return error_response(405, "Method not allowed")
        if len(seg) >= 4 and seg[:2] == ["api", "models"]:
            return self._api(req, seg[2:])
        if len(seg) >= 5 and seg[2] == "resolve":
            return self._resolve(req, f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        if len(seg) == 2 and seg[0] == "cdn-lfs":
            return self._cdn(req, seg[1])
        return error_response(404, "Not found")

    def _gate(self, req: Request, repo_id: str) -> Response | RepoState:
        state = self.registry.repos.get(repo_id)
        if state is None:
            return error_response(404, "Repository not found", "RepoNotFound")
        if state.gate_token is None:
            return state
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return error_response(
                401,
                f"Access to model {repo_id} is restricted. You must have access to it "
                "and be authenticated to access it. Please log in.",
                "GatedRepo",
            )
        if auth.removeprefix("Bearer ").strip() != state.gate_token:
            return error_response(
                403,
                f"Access to model {repo_id} is restricted and you are not in the authorized list.",
                "GatedRepo",
            )
        return state

    def _revision(self, state: RepoState, rev: str) -> Response | RepoManifest:
        try:
            return self.registry.manifest(state.shape.repo_id, rev)
        except KeyError:
            return error_response(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    def _api(self, req: Request, seg: list[str]) -> Response:
        repo_id = f"{seg[0]}/{seg[1]}"
        gated = self._gate(req, repo_id)
        if isinstance(gated, Response):
            return gated
        rest = seg[2:]
        if not rest or (rest[0] == "revision" and len(rest) == 2):
            found = self._revision(gated, rest[1] if rest else "main")
            return (
                found
                if isinstance(found, Response)
                else json_response(200, self._info(gated, found))
            )
        if rest[0] == "tree" and len(rest) >= 2:
            found = self._revision(gated, rest[1])
            if isinstance(found, Response):
                return found
            recursive = req.query.get("recursive", "").lower() in ("true", "1")
            return self._tree(found, "/".join(rest[2:]), recursive)
        return error_response(404, "Not found")

    def _info(self, state: RepoState, manifest: RepoManifest) -> dict[str, object]:
        index = list(state.commits).index(manifest.commit)
        siblings = [
            {
                "rfilename": f.path,
                "size": f.size,
                "blobId": f.git_oid,
                **(
                    {"lfs": {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}}
                    if f.sha256
                    else {}
                ),
            }
            for f in manifest.files
        ]
        return {
            "_id": hashlib.sha1(state.shape.repo_id.encode()).hexdigest()[:24],
            "id": state.shape.repo_id,
            "modelId": state.shape.repo_id,
            "author": state.shape.repo_id.split("/")[0],
            "sha": manifest.commit,
            "lastModified": _timestamp(index),
            "createdAt": _timestamp(0),
            "private": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "gated": "manual" if state.gate_token else False,
            "library_name": "diffusers",
            "pipeline_tag": "text-to-video",
            "tags": ["diffusers", "safetensors", "text-to-video"],
            "siblings": siblings,
            "usedStorage": manifest.total_size,
        }

    def _tree(self, manifest: RepoManifest, folder: str, recursive: bool) -> Response:
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        entries: list[dict[str, object]] = []
        folders: set[str] = set()
        for f in manifest.files:
            if not f.path.startswith(prefix):
                continue
            rest = f.path[len(prefix) :]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/", 1)[0])
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                folders.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts)))
            entries.append(
                {
                    "type": "file",
                    "oid": f.git_oid,
                    "size": f.size,
                    "path": f.path,
                    **(
                        {"lfs": {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}}
                        if f.sha256
                        else {}
                    ),
                }
            )
        if prefix and not entries and not folders:
            return error_response(404, f"{folder} does not exist", "EntryNotFound")
        dirs = [
            {
                "type": "directory",
                "oid": hashlib.sha1(f"{manifest.commit}:{d}".encode()).hexdigest(),
                "size": 0,
                "path": d,
            }
            for d in sorted(folders)
        ]
        return json_response(200, dirs + entries)

    def _resolve(self, req: Request, repo_id: str, rev: str, path: str) -> Response:
        gated = self._gate(req, repo_id)
        if isinstance(gated, Response):
            return gated
        manifest = self._revision(gated, rev)
        if isinstance(manifest, Response):
            return manifest
        try:
            entry = manifest.file(path)
        except KeyError:
            resp = error_response(404, "Entry not found", "EntryNotFound")
            resp.headers["X-Repo-Commit"] = manifest.commit
            return resp
        headers = {"X-Repo-Commit": manifest.commit}
        if entry.sha256 is None:
            resp = serve_bytes(req, entry, entry.git_oid, headers)
            resp.label = f"{repo_id}/{path}"
            return resp
        location = (
            f"{self.cdn_base}/cdn-lfs/{entry.sha256}?repo={quote(repo_id, safe='')}"
            f"&file={quote(path, safe='')}"
        )
        if self.signer is not None:
            location += "&" + self.signer.sign(f"/cdn-lfs/{entry.sha256}")
        body = f"Found. Redirecting to {location}".encode()
        return Response(
            302,
            {
                **headers,
                "Location": location,
                "ETag": f'"{entry.sha256}"',
                "X-Linked-Etag": f'"{entry.sha256}"',
                "X-Linked-Size": str(entry.size),
                "Content-Type": "text/plain; charset=utf-8",
            },
            body,
        )

    def _cdn(self, req: Request, sha256: str) -> Response:
        if self.signer is not None:
            refusal = self.signer.refusal(f"/cdn-lfs/{sha256}", req.query)
            if refusal is not None:
                return refusal
        entry = self.registry.lfs_object(sha256)
        if entry is None:
            return error_response(404, "Object not found")
        # Like the Hub's CDN, whose ETags are its own and not the content's sha256: clients
        # that validate a resume against the sha256 with If-Range get the whole file again.
        resp = serve_bytes(req, entry, cdn_etag(sha256), {})
        resp.label = f"{req.query.get('repo', '')}/{req.query.get('file', entry.path)}"
        return resp
