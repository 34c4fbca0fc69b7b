"""What every page route needs: the gate, the settings, and safe redirects."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse

from joinedup.access.gate import AccessGate
from joinedup.api.deps import services
from joinedup.settings import Settings


def gate(request: Request) -> AccessGate:
    return services(request).gate


def settings(request: Request) -> Settings:
    return services(request).settings


def local_path(candidate: str | None, fallback: str = "/") -> str:
    """Only paths on this site (no scheme, no '//host'), so a sign-in link cannot send anyone elsewhere."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return fallback


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def sign_in_redirect(next_path: str) -> RedirectResponse:
    return see_other(f"/sign-in?next={quote(local_path(next_path), safe='/')}")
