"""Security headers on every response: no framing (CSP frame-ancestors 'none' and X-Frame-Options), no sniffing,
no referrer beyond the site, and HSTS only when the response goes over TLS.

HSTS over plain HTTP is ignored by browsers at best, and a development server that sent it would teach the
browser to refuse that host without TLS for a year. So it is sent when the `hsts` setting says every response is
served over TLS, when this request itself came over TLS, or when a proxy in `trusted_proxies` says it did
(X-Forwarded-Proto: https). The header of any other client is not believed: anyone can send it.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
HSTS = b"max-age=31536000; includeSubDomains"


def _trusted_proxies(scope: Scope) -> frozenset[str]:
    """The `trusted_proxies` setting of the app serving this request (read per request: settings are per app)."""
    services: Any = getattr(getattr(scope.get("app"), "state", None), "services", None)
    settings: Any = getattr(services, "settings", None)
    return frozenset(getattr(settings, "trusted_proxies", None) or ())


def over_tls(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if client is None or client[0] not in _trusted_proxies(scope):
        return False
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1")
    return forwarded.split(",")[0].strip().lower() == "https"  # the nearest proxy's is the first


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts  # every response is served over TLS (the `hsts` setting, or an https base URL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.hsts or _hsts_setting(scope) or over_tls(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-frame-options": b"DENY",
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                }
                if hsts:
                    extra[b"strict-transport-security"] = HSTS
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _hsts_setting(scope: Scope) -> bool:
    services: Any = getattr(getattr(scope.get("app"), "state", None), "services", None)
    return bool(getattr(getattr(services, "settings", None), "hsts", False))
