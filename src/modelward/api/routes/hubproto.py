"""The Hub endpoint for plain clients: this node's verified store over the Hub protocol,
read-only, mounted at ``/hub`` (``HF_ENDPOINT=http://node:port/hub``).

::

    GET      /hub/api/models/{org}/{name}[/revision/{rev}]     repo info (?blobs=true)
    GET      /hub/api/models/{org}/{name}/tree/{rev}[/{path}]  file listing (?recursive=true)
    HEAD|GET /hub/{org}/{name}/resolve/{rev}/{path}            bytes: Range, ETag, X-Repo-Commit

A revision is a ref this store holds (``main``) or a commit id; what is listed and what is
served is decided by ``store/served.py`` (only blobs whose stat still equals their
verification record). Reads need what every read route needs (``api/guard.py``): a
``read`` token when read tokens are required, sent by huggingface_hub as
``Authorization: Bearer $HF_TOKEN``. Errors carry the Hub's ``X-Error-Code``
(RepoNotFound, RevisionNotFound, EntryNotFound) so huggingface_hub raises its own
exceptions, and the project's JSON body. Not in the OpenAPI document: the protocol is the
Hub's, documented by it.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from modelward.api.deps import RuntimeDep
from modelward.api.edge import bearer
from modelward.api.guard import GuardedRoute, Handler
from modelward.api.hubwire import (
    BlobResponse,
    RangeNotSatisfiableError,
    byte_range,
    file_headers,
    hub_error,
    repo_info,
    tree,
)
from modelward.errors import ModelwardError, NotInStoreError
from modelward.runtime import Runtime
from modelward.store.served import OpenBlob, ServedRevision, open_verified, served_revision

HUB_MOUNT = "/hub"
"""Where the endpoint is mounted: clients set ``HF_ENDPOINT`` to the service's URL + this."""
DEFAULT_REVISION = "main"


class HubRoute(GuardedRoute):
    """A guarded read route whose refusals (the guard's too) are stated as the Hub does."""

    def get_route_handler(self) -> Handler:
        """The guarded handler, with ModelwardErrors answered in the Hub's style."""
        guarded = super().get_route_handler()

        async def hub_handler(request: Request) -> Response:
            try:
                return await guarded(request)
            except ModelwardError as exc:
                given = bool(bearer(request.headers.get("Authorization")))
                return hub_error(exc, token_given=given)

        return hub_handler


router = APIRouter(prefix=HUB_MOUNT, route_class=HubRoute, include_in_schema=False)


async def _served(runtime: Runtime, repo_id: str, revision: str) -> ServedRevision:
    return await asyncio.to_thread(served_revision, runtime.manager, repo_id, revision)


@router.get("/api/models/{repo_id:path}/revision/{revision}")
async def model_info(
    repo_id: str, revision: str, runtime: RuntimeDep, blobs: bool = False
) -> JSONResponse:
    """The repo at ``revision`` as this node holds it (sizes and ids with ``blobs``)."""
    served = await _served(runtime, repo_id, revision)
    return JSONResponse(repo_info(served, blobs=blobs))


@router.get("/api/models/{repo_id:path}/tree/{revision}/{path:path}")
async def model_tree_folder(
    repo_id: str, revision: str, path: str, runtime: RuntimeDep, recursive: bool = False
) -> JSONResponse:
    """The files and folders under ``path`` at ``revision``."""
    served = await _served(runtime, repo_id, revision)
    entries = tree(served, path, recursive=recursive)
    if entries is None:
        raise NotInStoreError(f"{repo_id} has no folder {path!r} on this node", missing="file")
    return JSONResponse(entries)


@router.get("/api/models/{repo_id:path}/tree/{revision}")
async def model_tree(
    repo_id: str, revision: str, runtime: RuntimeDep, recursive: bool = False
) -> JSONResponse:
    """The files and folders at the top of ``revision`` (all of them with ``recursive``)."""
    return await model_tree_folder(repo_id, revision, "", runtime, recursive)


@router.get("/api/models/{repo_id:path}")
async def model_info_main(repo_id: str, runtime: RuntimeDep, blobs: bool = False) -> JSONResponse:
    """The repo at its default revision (``main``)."""
    return await model_info(repo_id, DEFAULT_REVISION, runtime, blobs)


@router.api_route("/{repo_id:path}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
async def resolve(
    repo_id: str, revision: str, path: str, request: Request, runtime: RuntimeDep
) -> Response:
    """A file's bytes (all, or the one ``Range`` asked for), if its blob is verified now."""
    served = await _served(runtime, repo_id, revision)
    head = request.method == "HEAD"
    try:
        blob = await asyncio.to_thread(open_verified, runtime.manager, served, path)
    except ModelwardError as exc:
        return hub_error(exc, commit=None if served.lists(path) else served.commit)
    return _answer(
        blob, served, request.headers.get("Range"), request.headers.get("If-Range"), head
    )


def _answer(
    blob: OpenBlob,
    served: ServedRevision,
    range_header: str | None,
    if_range: str | None,
    head: bool,
) -> Response:
    """200 (whole file), 206 (one range) or 416; headers only for a HEAD."""
    headers = file_headers(served, blob.file)
    size = blob.file.size_bytes
    try:
        wanted = byte_range(range_header, if_range, blob.file.blob_name, size)
    except RangeNotSatisfiableError:
        blob.close()
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if wanted is not None else (0, size - 1)
    status = 206 if wanted is not None else 200
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if head:
        blob.close()
        return Response(
            status_code=status, headers={**headers, "Content-Length": str(end - start + 1)}
        )
    return BlobResponse(blob, start, end - start + 1, status, headers)


@router.api_route("/{rest:path}", methods=["GET", "HEAD"])
async def not_served(rest: str) -> Response:
    """Anything else under the mount is no route of it (and not the dashboard's page)."""
    raise HTTPException(
        404,
        f"{HUB_MOUNT}/{rest} is not a route of this node's Hub endpoint, which serves repo "
        "info, tree listings and resolve, read-only (docs/FLEET.md)",
    )
