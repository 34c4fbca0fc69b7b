"""Who is signed in to the pages: held in the signed session cookie, turned into the gate's AccessContext.

The development sign-in writes it; information governance's real sign-in (OIDC, roles, relationships) will write
the same `SignedIn` and every page keeps working.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.requests import Request

from joinedup.access.context import AccessContext

SESSION_KEY = "signed_in"
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


def sign_in(request: Request, who: SignedIn) -> None:
    request.session.clear()
    request.session[SESSION_KEY] = asdict(who)


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> SignedIn | None:
    stored: Any = request.session.get(SESSION_KEY)
    names = {f.name for f in fields(SignedIn)}
    if not isinstance(stored, dict) or set(stored) != names:
        return None
    return SignedIn(**stored)


def require_user(request: Request) -> SignedIn:
    """The signed-in user, or SignInRequired (a redirect to sign in and come back here)."""
    who = signed_in(request)
    if who is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return who
