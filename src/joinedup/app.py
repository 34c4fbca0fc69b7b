"""Build the ASGI app from Settings: the FHIR API at /fhir (the web pages join it in the web app issue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from joinedup import __version__
from joinedup.access.gate import AccessGate
from joinedup.access.pseudonymise import Pseudonymiser, load_key
from joinedup.api import auth_routes, capability, export_routes, resource_routes, search_routes, threads
from joinedup.api.ahead import serve_ahead
from joinedup.api.credentials import RequireCredentialsMiddleware
from joinedup.api.deps import Services
from joinedup.api.docs_routes import install_docs
from joinedup.api.identity_routes import router as identity_router
from joinedup.api.limits import BodyLimitMiddleware
from joinedup.api.operations import install_operations
from joinedup.api.outcome import install_error_handlers
from joinedup.api.public import public
from joinedup.care import install as care
from joinedup.identity import install as identity
from joinedup.settings import Settings
from joinedup.web.csrf import CsrfTokenMiddleware
from joinedup.web.install import install_web


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    threads.configure(settings.api_threads)
    # The gate makes the store's engine and keeps the store private (decision 0313): nothing here holds it.
    gate = AccessGate.open(
        settings.database_url,
        break_glass_seconds=int(settings.break_glass_hours * 3600),
        pseudonymiser=Pseudonymiser(load_key(settings.pseudonym_key, settings.pseudonym_key_file)),
        export_dir=settings.export_dir,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        gate.close()

    # FastAPI's documentation routes would bypass the credentials check: docs_routes serves them (decision 0311)
    app = FastAPI(
        title="JoinedUp", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.services = Services(settings=settings, gate=gate)
    app.state.person_index = identity.install(gate, settings)  # its after-write hook and its service
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    # Both read the session, so they run inside the session middleware install_web adds; credentials first
    app.add_middleware(CsrfTokenMiddleware, limit=settings.max_request_bytes)  # every page form carries the token
    app.add_middleware(RequireCredentialsMiddleware)  # nothing is open by default (decision 0311)
    install_error_handlers(app)
    care.install(app, gate, settings)  # its operations join the table, its pages their routes
    install_operations(app)  # the operations table first, so /fhir/Task/{id}/$… and /fhir/$export are theirs
    app.include_router(identity_router)
    app.include_router(auth_routes.router)  # OAuth2 token endpoint, SMART configuration (before /fhir/{type})
    app.include_router(capability.router, prefix="/fhir")
    app.include_router(export_routes.router, prefix="/fhir")
    app.include_router(search_routes.router, prefix="/fhir")
    app.include_router(resource_routes.router, prefix="/fhir")
    install_docs(app, settings)
    install_web(app, settings)  # the pages, their static files and the session; its "/" is the web home

    @app.get("/healthz", include_in_schema=False)
    @public
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # Last, once the table is complete: the hot FHIR GETs are matched first, except URLs an earlier route takes (0010)
    for hot in (resource_routes.read, search_routes.search_get, search_routes.everything):
        serve_ahead(app, hot)
    return app
