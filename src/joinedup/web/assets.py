"""Static files served straight from node_modules (installed by `npm ci`, never copied into the repository):
the NHS.UK frontend's CSS, JavaScript and images, and htmx. Stylesheets are served rewritten so that nothing is
fetched from another host (offline_css)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from joinedup.api.public import public
from joinedup.settings import Settings

from .offline_css import offline_stylesheet_file

REPO = Path(__file__).resolve().parents[3]
MOUNTS = {
    "/assets": ("nhsuk-frontend", "dist", "nhsuk", "assets"),  # the CSS refers to /assets/images/…
    "/static/nhsuk": ("nhsuk-frontend", "dist", "nhsuk"),
    "/static/htmx": ("htmx.org", "dist"),
}


def node_modules(settings: Settings) -> Path:
    """settings.node_modules if it holds the packages, else the checkout's own node_modules."""
    configured = settings.node_modules
    if (configured / "nhsuk-frontend").is_dir():
        return configured
    return REPO / "node_modules"


class OfflineStaticFiles(StaticFiles):
    """Static files whose stylesheets load no fonts from another host (the package's CSS points at assets.nhs.uk)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not (isinstance(response, FileResponse) and path.endswith(".css") and response.status_code == 200):
            return response
        kept = {k: v for k, v in response.headers.items() if k in ("etag", "last-modified")}
        css = offline_stylesheet_file(Path(response.path))
        return Response(css, media_type="text/css; charset=utf-8", headers=kept)


def mount_assets(app: FastAPI, settings: Settings) -> None:
    root = node_modules(settings)
    for prefix, parts in MOUNTS.items():
        files = public(OfflineStaticFiles(directory=root.joinpath(*parts), check_dir=False))  # CSS, JS, images
        app.mount(prefix, files, name=prefix.strip("/"))
