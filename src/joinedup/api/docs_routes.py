"""The API's own documentation (Swagger UI at /api/docs, the OpenAPI JSON at /api/openapi.json): served outside
production to a caller with credentials (a signed-in user, or a bearer token), like every route not declared
public; not served at all in production, where it would describe the attack surface to anyone who asks (decision
0311). FastAPI's own documentation routes are turned off in create_app; these replace them as ordinary routes, so
the credentials check covers them.

Swagger UI's script and stylesheet come from the pinned `swagger-ui-dist` npm package, served by the app under
/api/docs/assets (behind the same credentials check), never from a CDN: the pages must work on a network without
internet. ReDoc is not offered: its package brings React and some twenty others for a second view of the same
document, and it fetches its fonts from Google."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles

from joinedup.settings import Settings
from joinedup.web.assets import node_modules

OPENAPI_URL = "/api/openapi.json"
ASSETS = "/api/docs/assets"


def install_docs(app: FastAPI, settings: Settings) -> None:
    if settings.environment == "production":
        return

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi_json(_request: Request) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    # Registered after the page's route, so /api/docs itself is the page and only /api/docs/assets/… is files.
    swagger = StaticFiles(directory=node_modules(settings) / "swagger-ui-dist", check_dir=False)
    app.mount(ASSETS, swagger, name="api-docs-assets")
