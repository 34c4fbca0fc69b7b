"""Cross-site request forgery: two defences for the pages' forms.

1. Every unsafe request to a page (POST, PUT, PATCH, DELETE outside the token-authenticated API) from a browser
   that says it came from another site (Origin not ours, or Sec-Fetch-Site: cross-site) is refused with 403.
2. Every unsafe request to a page carries the session's token — the form field `csrf` (every page has it as
   `csrf`, templating.render) or the X-CSRF-Token header — checked in constant time by CsrfTokenMiddleware before
   any route runs, so a new form cannot forget it (decision 0311). The API is exempt: it reads bearer tokens only,
   never cookies, so a browser cannot be made to send its credentials there.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_KEY = "csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIXES = ("/fhir", "/auth/token", "/identity/api")  # bearer-token clients: no cookies, no CSRF
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSED = "This form has expired or did not come from this site. Go back, reload the page and try again."


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.session.get(CSRF_KEY)
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), (submitted or "").encode())


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


def _replay(messages: list[Message]) -> Receive:
    """A receive that gives the buffered body again, then whatever the server sends next (a disconnect)."""
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


class CsrfTokenMiddleware:
    """Refuses (403) an unsafe request to a page whose token is missing or is not this session's. Runs inside the
    session middleware; reads a form body at most `limit` bytes long, then hands it on unchanged."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session = Request(scope)
        accepted = csrf_ok(session, headers.get(CSRF_HEADER, ""))
        if not accepted and headers.get("content-type", "").startswith(FORM_TYPES):
            messages = await self._body(receive)
            if messages is None:
                await PlainTextResponse("The form is too large", status_code=413)(scope, receive, send)
                return
            form = await Request(scope, _replay(messages)).form()
            field = form.get(CSRF_KEY)
            accepted = isinstance(field, str) and csrf_ok(session, field)
            await form.close()
            receive = _replay(messages)
        if not accepted:
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _body(self, receive: Receive) -> list[Message] | None:
        """The request's body messages, or None when it is longer than the limit."""
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return None
            if not message.get("more_body", False):
                return messages
