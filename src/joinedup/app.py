"""Build the ASGI app from Settings: the FHIR API at /fhir (the web pages join it in the web app issue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from joinedup import __version__
from joinedup.access.audit.exports import export_recorder
from joinedup.access.gate import AccessGate
from joinedup.access.pseudonymise import Pseudonymiser, load_key
from joinedup.api import auth_routes, capability, export_routes, resource_routes, search_routes, threads
from joinedup.api.ahead import serve_ahead
from joinedup.api.deps import Services
from joinedup.api.identity_routes import install_identity
from joinedup.api.limits import BodyLimitMiddleware
from joinedup.api.outcome import install_error_handlers
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.export import ExportJobs
from joinedup.store.fhir_store import FhirStore
from joinedup.web.install import install_web


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    threads.configure(settings.api_threads)
    store = FhirStore(make_engine(settings.database_url))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.engine.dispose()

    app = FastAPI(
        title="JoinedUp", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json", lifespan=lifespan
    )
    gate = AccessGate(
        store,
        break_glass_seconds=int(settings.break_glass_hours * 3600),
        pseudonymiser=Pseudonymiser(load_key(settings.pseudonym_key, settings.pseudonym_key_file)),
    )
    app.state.services = Services(settings=settings, gate=gate)
    app.state.exports = ExportJobs(store, settings.export_dir, on_finished=export_recorder(gate.audit))
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    install_error_handlers(app)
    install_identity(app, settings)  # the person index: its operations first, so /fhir/Task/{id}/$… is theirs
    app.include_router(auth_routes.router)  # OAuth2 token endpoint, SMART configuration (before /fhir/{type})
    app.include_router(capability.router, prefix="/fhir")
    app.include_router(export_routes.router, prefix="/fhir")
    app.include_router(search_routes.router, prefix="/fhir")
    app.include_router(resource_routes.router, prefix="/fhir")
    install_web(app, settings)  # the pages, their static files and the session; its "/" is the web home

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # Last, once the table is complete: the hot FHIR GETs are matched first, except URLs an earlier route takes (0010)
    for hot in (resource_routes.read, search_routes.search_get, search_routes.everything):
        serve_ahead(app, hot)
    return app
