"""The dashboard (the production build of ``web/``) at ``/``, and the API docs at ``/docs``
(Swagger UI) and ``/redoc`` (ReDoc).

``./dev`` builds the dashboard into ``src/modelward/webui/`` (not in git). Client-side routes
(``/downloads``, ``/health``, ...) get ``index.html``; anything under ``/api`` that no
route took stays a JSON 404. Without a build, ``/`` says how to make one.

The docs pages load Swagger UI and ReDoc from the ``fastapi-offline`` package (a
dependency), never from a CDN: they work with no internet, under the same policy as the
dashboard (everything from this service, no inline script).
"""

from __future__ import annotations

from importlib.resources import files
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


DOCS_ASSETS = "/docs/assets"
# The package's files the docs pages load, with their media types.
_DOCS_FILES: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# The policy forbids inline script, so Swagger UI is started by a file of our own; it reads
# the OpenAPI address from its page. ReDoc's search runs in a worker made from a blob, which
# the policy refuses too: its search is off (Swagger UI's filter finds operations instead).
_SWAGGER_INIT = """const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  filter: true,
  validatorUrl: null,
});
"""
_SWAGGER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API (Swagger UI)</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script></body></html>"""
_REDOC_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API (ReDoc)</title>
<link rel="icon" href="{assets}/favicon.png">
<style>body {{ margin: 0; padding: 0; }}</style></head>
<body><redoc spec-url="{openapi}" disable-search="true"></redoc>
<script src="{assets}/redoc.standalone.js"></script></body></html>"""


def mount_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` and ReDoc at ``/redoc`` from files on this machine.

    The app must be made with ``docs_url=None, redoc_url=None`` (FastAPI's own pages load
    their scripts from a CDN).
    """
    assets = files("fastapi_offline") / "static"
    openapi = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = _SWAGGER_PAGE.format(title=app.title, assets=DOCS_ASSETS, openapi=openapi)
        return HTMLResponse(page, headers=_headers("no-cache"))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = _REDOC_PAGE.format(title=app.title, assets=DOCS_ASSETS, openapi=openapi)
        return HTMLResponse(page, headers=_headers("no-cache"))

    @app.get(f"{DOCS_ASSETS}/{{name}}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        if name == "swagger-init.js":
            return Response(
                _SWAGGER_INIT, media_type="text/javascript", headers=_headers("no-cache")
            )
        if name not in _DOCS_FILES:
            return JSONResponse(_not_found(f"{DOCS_ASSETS}/{name}"), status_code=404)
        body = (assets / name).read_bytes()
        return Response(
            body, media_type=_DOCS_FILES[name], headers=_headers("public, max-age=86400")
        )


def mount_dashboard(app: FastAPI, root: Path = WEBUI_DIR) -> None:
    """Serve the dashboard's files, and ``index.html`` for its client-side routes."""

    @app.get("/{path:path}", include_in_schema=False)
    def dashboard(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            return JSONResponse(_not_found(f"/{path}"), status_code=404)
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


def _not_found(path: str) -> dict[str, str | bool]:
    return {
        "code": "not-found",
        "message": f"no route {path}",
        "hint": "See /docs for the API's routes.",
        "retryable": False,
    }


def _headers(cache_control: str) -> dict[str, str]:
    return {
        "Cache-Control": cache_control,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
