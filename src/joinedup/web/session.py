"""Who is signed in to the pages: a server-side session (access/accounts/sessions.py) named by a random
identifier in the signed session cookie, turned into the gate's AccessContext.

Local accounts, OIDC and the development sign-in all write the same `SignedIn`. Signing in always starts a new
session and ends the browser's old one (no fixation); ending the row (sign-out, role change, disabled account)
signs the browser out on its next request (decision 0310).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.requests import Request

from joinedup.access.accounts.sessions import SessionStore
from joinedup.access.context import AccessContext
from joinedup.api.deps import services

SESSION_KEY = "session_id"
_NOT_LOOKED_UP = object()
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})


class SignInRequired(Exception):
    """Raised by pages that need a signed-in user; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


@dataclass(frozen=True)
class SignedIn:
    key: str  # the demo user's key (its role) while sign-in is the development one
    user: str  # a reference: 'Practitioner/…' or, for a resident, 'Patient/…'
    name: str
    role: str
    role_label: str
    organisation: str | None  # 'Organization/…'
    organisation_name: str

    @property
    def organisation_id(self) -> str | None:
        return self.organisation.split("/", 1)[1] if self.organisation else None

    @property
    def is_resident(self) -> bool:
        return self.role == "resident"

    def access_context(self, request: Request) -> AccessContext:
        return AccessContext(
            user=self.user,
            role=self.role,
            organisation=self.organisation,
            purpose="treatment",
            client_address=request.client.host if request.client else None,
        )


def _sessions(request: Request) -> SessionStore:
    return services(request).gate.accounts.sessions


def sign_in(request: Request, who: SignedIn, account: str) -> None:
    """A new session for `account` ('local:…', 'oidc:…', 'demo:…'); whatever the browser held before ends."""
    old = request.session.get(SESSION_KEY)
    request.session.clear()
    max_age = services(request).settings.session_max_age
    request.session[SESSION_KEY] = _sessions(request).start(
        account, asdict(who), max_age, old if isinstance(old, str) else None
    )
    request.state.signed_in = who


def renew(request: Request) -> None:
    """A new session identifier for the same user, the old one ended: for a privilege change within a session
    (break-glass, for one), so an identifier seen before the change is worth nothing after it."""
    who = signed_in(request)
    account = session_account(request)
    if who is not None and account is not None:
        csrf = request.session.get("csrf")
        sign_in(request, who, account)
        if isinstance(csrf, str):
            request.session["csrf"] = csrf  # forms already on screen stay valid


def sign_out(request: Request) -> None:
    old = request.session.get(SESSION_KEY)
    if isinstance(old, str):
        _sessions(request).end(old)
    request.session.clear()
    request.state.signed_in = None


def session_account(request: Request) -> str | None:
    """The account key of the live session ('local:…', 'oidc:…', 'demo:…'), or None."""
    session_id = request.session.get(SESSION_KEY)
    found = _sessions(request).find(session_id) if isinstance(session_id, str) else None
    return found[0] if found else None


def _load(request: Request) -> SignedIn | None:
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    found = _sessions(request).find(session_id)
    if found is None:
        request.session.pop(SESSION_KEY, None)  # ended or expired: forget the identifier
        return None
    stored: Any = found[1]
    names = {f.name for f in fields(SignedIn)}
    if set(stored) != names:
        return None
    return SignedIn(**stored)


def signed_in(request: Request) -> SignedIn | None:
    """Who is signed in, looked up once per request."""
    cached: Any = getattr(request.state, "signed_in", _NOT_LOOKED_UP)
    if cached is _NOT_LOOKED_UP:
        cached = request.state.signed_in = _load(request)
    who: SignedIn | None = cached
    return who


def require_user(request: Request) -> SignedIn:
    """The signed-in user, or SignInRequired (a redirect to sign in and come back here)."""
    who = signed_in(request)
    if who is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return who
