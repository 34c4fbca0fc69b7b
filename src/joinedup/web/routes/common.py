"""What every page route needs: the caller's handle, the settings, and safe redirects.

Pages reach records, exports and the audit trail only through `handle(request, who)` (decision 0313); `gate(request)`
is left for signing in and out (accounts, sessions and their audit entries), before there is a caller."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle, SystemHandle
from joinedup.api.deps import services
from joinedup.settings import Settings

from ..session import SignedIn


def gate(request: Request) -> AccessGate:
    """For signing in and out only (accounts, sessions, their audit entries): pages use `handle`."""
    return services(request).gate


def handle(request: Request, who: SignedIn) -> CallerHandle:
    """The signed-in caller's handle: everything a page reads or writes goes through it, checked and audited."""
    return services(request).gate.for_caller(who.access_context(request))


def system(request: Request, purpose: str) -> SystemHandle:
    """The system's handle for work done before anyone is signed in (sign-in look-ups), audited as the system."""
    return services(request).gate.for_system(purpose)


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
