"""The dashboard: the production build of ``web/`` served at ``/``.

``./dev`` builds it into ``src/modelward/webui/`` (not in git). Client-side routes
(``/downloads``, ``/health``, ...) get ``index.html``; anything under ``/api`` that no
route took stays a JSON 404. Without a build, ``/`` says how to make one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

WEBUI_DIR = Path(__file__).resolve().parent.parent / "webui"

_NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>modelward</title><body style="font-family: system-ui, sans-serif; margin: 2rem">
<h1>modelward</h1><p>The dashboard is not built. Run <code>./dev demo</code> (or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and reload. The API is at
<a href="/docs">/docs</a>.</p></body></html>"""


def mount_dashboard(app: FastAPI, root: Path = WEBUI_DIR) -> None:
    """Serve the dashboard's files, and ``index.html`` for its client-side routes."""

    @app.get("/{path:path}", include_in_schema=False)
    def dashboard(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            return JSONResponse(
                {
                    "code": "not-found",
                    "message": f"no route /{path}",
                    "hint": "See /docs for the API's routes.",
                    "retryable": False,
                },
                status_code=404,
            )
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT)
        wanted = (root / path).resolve()
        if path and wanted.is_file() and wanted.is_relative_to(root.resolve()):
            # Hashed asset names change with their content: they may be cached for long.
            long_lived = "/assets/" in f"/{path}"
            headers = {"Cache-Control": "public, max-age=31536000, immutable"} if long_lived else {}
            return FileResponse(wanted, headers=headers)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
