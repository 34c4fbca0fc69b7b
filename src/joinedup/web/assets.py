"""Static files served straight from node_modules (installed by `npm ci`, never copied into the repository):
the NHS.UK frontend's CSS, JavaScript and images, and htmx."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from joinedup.api.public import public
from joinedup.settings import Settings

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


def mount_assets(app: FastAPI, settings: Settings) -> None:
    root = node_modules(settings)
    for prefix, parts in MOUNTS.items():
        files = public(StaticFiles(directory=root.joinpath(*parts), check_dir=False))  # the pages' CSS, JS, images
        app.mount(prefix, files, name=prefix.strip("/"))
