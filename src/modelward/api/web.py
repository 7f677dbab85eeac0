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
# Everything the dashboard loads comes from this service; a policy that says so keeps a
# stray script (or injected markup) from calling anywhere else with the token.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

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
            cache = "public, max-age=31536000, immutable" if long_lived else "no-cache"
            return FileResponse(wanted, headers=_headers(cache))
        return FileResponse(index, headers=_headers("no-cache"))


def _headers(cache_control: str) -> dict[str, str]:
    return {
        "Cache-Control": cache_control,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
