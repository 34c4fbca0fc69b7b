"""OAuth2 for API clients and the SMART on FHIR configuration that advertises exactly what is supported:

- client credentials for systems (`system/` scopes, confidential clients);
- SMART v2 standalone launch for apps acting for a user: /auth/authorize (the user signs in to the pages and
  approves `user/` scopes; PKCE S256 required) then /auth/token with grant_type=authorization_code. The token acts
  as that user through the gate — their role, their organisation's relationships — narrowed by the scopes.

Failed token requests are rate limited per client id and per address (429 with Retry-After, audited).
"""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from joinedup.access.accounts.tokens import Client, Grant, IssuedToken, TokenRefused
from joinedup.access.audit.trail import Actor
from joinedup.access.scopes import describe_scope
from joinedup.web.csrf import csrf_ok, csrf_token
from joinedup.web.routes.common import sign_in_redirect
from joinedup.web.security_headers import CSP
from joinedup.web.session import SignedIn, session_account, signed_in
from joinedup.web.templating import render

from .deps import services
from .public import public

router = APIRouter()
SMART_CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "context-standalone-user",
    "permission-user",
    "permission-offline",
    "permission-v2",
    "permission-v1",
]
SMART_SCOPES = ["system/*.cruds", "system/*.rs", "user/*.cruds", "user/*.rs", "user/Observation.rs", "offline_access"]


def smart_configuration(base_url: str) -> dict[str, Any]:
    root = base_url.rstrip("/")
    return {
        "issuer": root,
        "authorization_endpoint": f"{root}/auth/authorize",
        "token_endpoint": f"{root}/auth/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "scopes_supported": SMART_SCOPES,
        "capabilities": SMART_CAPABILITIES,
        "code_challenge_methods_supported": ["S256"],
    }


@router.get("/.well-known/smart-configuration", include_in_schema=False)
@router.get("/fhir/.well-known/smart-configuration")
@public
async def well_known(request: Request) -> Response:
    return JSONResponse(smart_configuration(services(request).settings.base_url))


# --- /auth/authorize: the user approves an app ---------------------------------------------------------------------
def _problem_page(request: Request, message: str, status: int = 400) -> Response:
    """Errors about the client or its redirect URI are shown here, never sent to an unverified redirect URI."""
    return render(request, "error.html", status_code=status, title="This app cannot connect", message=message)


def _back_to_app(redirect_uri: str, params: dict[str, str]) -> Response:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=303)


def _check_request(
    request: Request, client: Client | None, redirect_uri: str, response_type: str, scope: str, state: str,
    code_challenge: str, code_challenge_method: str, aud: str,
) -> tuple[Client, list[str]] | Response:  # fmt: skip
    """The client, verified redirect URI and the scopes that would be granted, or the answer refusing them."""
    if client is None:
        return _problem_page(request, "The app is not registered with JoinedUp.")
    if redirect_uri not in client.redirect_uris:
        return _problem_page(request, "The app asked to return to an address it has not registered.")

    def refuse(error: str, description: str) -> Response:
        return _back_to_app(redirect_uri, {"error": error, "error_description": description, "state": state})

    if response_type != "code":
        return refuse("unsupported_response_type", "Only response_type=code is supported")
    if not code_challenge or code_challenge_method != "S256":
        return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required")
    if aud and aud.rstrip("/") != services(request).settings.fhir_base.rstrip("/"):
        return refuse("invalid_request", "aud is not this FHIR server")
    granted = services(request).gate.tokens.user_scopes(client, scope)
    if not granted:
        return refuse("invalid_scope", "None of the scopes asked for may be granted to this app for a user")
    return client, granted


def _consent_csp(redirect_uri: str) -> str:
    """The consent form posts here and is then redirected to the app: browsers apply form-action to that
    redirect too, so the app's origin is allowed for this page only."""
    parts = urlsplit(redirect_uri)
    return CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


@router.get("/auth/authorize", include_in_schema=False)
async def authorize_page(
    request: Request,
    response_type: str = "",
    client_id: str = "",
    redirect_uri: str = "",
    scope: str = "",
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
    aud: str = "",
) -> Response:
    client = await run_in_threadpool(services(request).gate.tokens.client, client_id)
    checked = _check_request(
        request, client, redirect_uri, response_type, scope, state, code_challenge, code_challenge_method, aud
    )
    if isinstance(checked, Response):
        return checked
    who = await run_in_threadpool(signed_in, request)
    if who is None:
        return sign_in_redirect(f"{request.url.path}?{request.url.query}")
    app, granted = checked
    page = render(
        request, "auth_authorize.html", app=app, scopes=[(s, describe_scope(s)) for s in granted],
        csrf=csrf_token(request), fields={
            "response_type": response_type, "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
            "state": state, "code_challenge": code_challenge, "code_challenge_method": code_challenge_method,
            "aud": aud,
        },
    )  # fmt: skip
    page.headers["Content-Security-Policy"] = _consent_csp(redirect_uri)
    return page


@router.post("/auth/authorize", include_in_schema=False)
async def authorize_decision(
    request: Request,
    decision: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    response_type: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    code_challenge: Annotated[str, Form()] = "",
    code_challenge_method: Annotated[str, Form()] = "",
    aud: Annotated[str, Form()] = "",
) -> Response:
    tokens = services(request).gate.tokens
    client = await run_in_threadpool(tokens.client, client_id)
    checked = _check_request(
        request, client, redirect_uri, response_type, scope, state, code_challenge, code_challenge_method, aud
    )
    if isinstance(checked, Response):
        return checked
    app, granted = checked
    who: SignedIn | None = await run_in_threadpool(signed_in, request)
    account = await run_in_threadpool(session_account, request)
    if who is None or account is None or not csrf_ok(request, csrf):
        return _problem_page(request, "Your session expired: sign in and try again.", 403)
    if decision != "approve":
        return _back_to_app(redirect_uri, {"error": "access_denied", "state": state})
    grant = Grant(account, who.user, who.role, who.organisation)
    address = request.client.host if request.client else None
    code = await run_in_threadpool(tokens.issue_code, app, grant, granted, redirect_uri, code_challenge, address)
    return _back_to_app(redirect_uri, {"code": code, "state": state})


# --- /auth/token ---------------------------------------------------------------------------------------------------
def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def _oauth_error(code: str, status: int = 400, description: str | None = None) -> Response:
    body = {"error": code} | ({"error_description": description} if description else {})
    headers = {"Cache-Control": "no-store"} | ({"WWW-Authenticate": "Basic"} if status == 401 else {})
    return JSONResponse(body, status_code=status, headers=headers)


def _issued(issued: IssuedToken) -> Response:
    body: dict[str, Any] = {"access_token": issued.access_token, "token_type": "Bearer",
                            "expires_in": issued.expires_in, "scope": issued.scope}  # fmt: skip
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _throttle_keys(client_id: str, address: str | None) -> list[str]:
    return [f"client:{client_id}", f"address:{address}"]


def _throttled(request: Request, client_id: str, address: str | None) -> int | None:
    config = services(request).settings
    tokens = services(request).gate.tokens
    keys = _throttle_keys(client_id, address)
    limits = [(keys[0], config.token_failures_per_client), (keys[1], config.token_failures_per_address)]
    wait = tokens.throttle.retry_after(limits, config.rate_limit_window_seconds)
    if wait is not None:
        actor = Actor(f"Device/{client_id}", None, None, None, address, "api")
        services(request).gate.audit.record(actor, "token-throttled", "failure", [f"Device/{client_id}"])
    return wait


@router.post("/auth/token")
@public  # the client proves itself with its own credentials
async def token(
    request: Request,
    grant_type: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
    refresh_token: Annotated[str, Form()] = "",
) -> Response:
    if grant_type not in ("client_credentials", "authorization_code", "refresh_token"):
        return _oauth_error("unsupported_grant_type")
    basic = _basic(request)
    client, secret = basic if basic else (client_id, client_secret or None)
    if not client:
        return _oauth_error("invalid_client", 401)
    address = request.client.host if request.client else None
    wait = await run_in_threadpool(_throttled, request, client, address)
    if wait is not None:
        response = _oauth_error("slow_down", 429, "Too many failed requests: try again later")
        response.headers["Retry-After"] = str(wait)
        return response
    tokens = services(request).gate.tokens
    if grant_type in ("authorization_code", "refresh_token"):
        try:
            if grant_type == "authorization_code":
                issued = await run_in_threadpool(
                    tokens.exchange_code, client, secret, code, redirect_uri, code_verifier, address
                )
            else:
                issued = await run_in_threadpool(tokens.refresh, client, secret, refresh_token, address)
        except TokenRefused as refused:
            tokens.throttle.failed(_throttle_keys(client, address))
            return _oauth_error(refused.error, 401 if refused.error == "invalid_client" else 400, str(refused))
        return _issued(issued)
    found = await run_in_threadpool(tokens.client_credentials, client, secret or "", scope, address)
    if found is None:
        tokens.throttle.failed(_throttle_keys(client, address))
        return _oauth_error("invalid_client", 401)
    if not found.scope:
        return _oauth_error("invalid_scope")
    return _issued(found)
