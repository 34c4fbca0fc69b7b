"""The API's own documentation (Swagger UI at /api/docs, ReDoc at /redoc, the OpenAPI JSON at /api/openapi.json):
served outside production to a caller with credentials (a signed-in user, or a bearer token), like every route
not declared public; not served at all in production, where it would describe the attack surface to anyone who
asks (decision 0311). FastAPI's own documentation routes are turned off in create_app; these replace them as
ordinary routes, so the credentials check covers them."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from joinedup.settings import Settings

OPENAPI_URL = "/api/openapi.json"


def install_docs(app: FastAPI, settings: Settings) -> None:
    if settings.environment == "production":
        return

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi_json(_request: Request) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{app.title}: API")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(_request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=OPENAPI_URL, title=f"{app.title}: API")
