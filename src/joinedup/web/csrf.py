"""Cross-site request forgery: two defences for the pages' forms.

1. Every unsafe request to a page (POST, PUT, PATCH, DELETE outside the token-authenticated API) from a browser
   that says it came from another site (Origin not ours, or Sec-Fetch-Site: cross-site) is refused with 403.
2. Forms that change something about access (sign-in, break-glass, reviews) also carry a per-session token,
   checked in constant time.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

CSRF_KEY = "csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIXES = ("/fhir", "/auth/token", "/identity/api")  # bearer-token clients: no cookies, no CSRF


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.session.get(CSRF_KEY)
    return isinstance(expected, str) and hmac.compare_digest(expected, submitted or "")


class SameSiteFormsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE and not scope["path"].startswith(API_PREFIXES):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            origin = headers.get("origin")
            host = headers.get("host", "")
            cross_origin = origin not in (None, "null") and origin.split("://", 1)[-1] != host
            if cross_origin or headers.get("sec-fetch-site") == "cross-site" or origin == "null":
                await PlainTextResponse("Cross-site form submissions are refused", status_code=403)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)
