"""Adds the web app to the ASGI app: the signed session cookie, the static files, the page routers."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.pseudonymise import load_key
from joinedup.population.web import routes as population_pages
from joinedup.settings import Settings

from .assets import mount_assets
from .csrf import SameSiteFormsMiddleware
from .identity import routes as identity_pages
from .routes import governance, pages, record, sign_in
from .routes.common import sign_in_redirect
from .security_headers import SecurityHeadersMiddleware
from .session import SignInRequired

SESSION_COOKIE = "joinedup_session"


async def _to_sign_in(_request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    return sign_in_redirect(error.next_path)


def session_secret(settings: Settings) -> str:
    """The cookie's signing key: the setting, else the key file every server process shares, made on first use."""
    return load_key(settings.session_secret, settings.session_secret_file).decode()


def install_web(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.add_middleware(SameSiteFormsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.base_url.startswith("https://"))
    app.add_exception_handler(SignInRequired, _to_sign_in)
    mount_assets(app, settings)
    app.include_router(sign_in.router)
    app.include_router(pages.router)
    app.include_router(record.router)
    app.include_router(governance.router)  # access log, break-glass, IG reviews
    app.include_router(identity_pages.router)  # the person index's review pages
    app.include_router(population_pages.router)  # population health: analysts and MDGs
