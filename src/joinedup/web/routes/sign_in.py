"""Sign-in: local accounts (username, password, optional security code), the organisation's OpenID Connect provider
when one is configured, and in development and test served on loopback a pick-a-demo-user list. All write the same
SignedIn into a new server-side session (no session fixation) and are audited; failed attempts are rate limited per
name tried and per address (429 with Retry-After, the same for unknown and known names)."""

from __future__ import annotations

from typing import Annotated, Any

from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
from authlib.jose.errors import JoseError  # type: ignore[import-untyped]
from fastapi import APIRouter, Form, Query
from httpx import HTTPError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.accounts.store import fold, local_account
from joinedup.access.audit.trail import Actor
from joinedup.access.oidc.identity import Refused, resolve
from joinedup.access.oidc.provider import build_provider, id_token_checks, oidc_enabled
from joinedup.access.roles import catalogue
from joinedup.api.public import public

from ..csrf import csrf_ok, csrf_token
from ..demo_users import demo_sign_in_offered, demo_users, describe
from ..session import SignedIn, sign_in, sign_out, signed_in
from ..templating import render
from .common import gate, local_path, see_other, settings, system

router = APIRouter()
NOT_RIGHT = "The username, password or security code is not right, or the account is locked for a while"
OIDC_NEXT = "oidc_next"


def _development(request: Request) -> bool:
    """Whether the one-click demo users are offered: development and test, served on loopback only (0311)."""
    return demo_sign_in_offered(settings(request))


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _page(request: Request, next_path: str, status: int = 200, **extra: object) -> Response:
    users = await run_in_threadpool(demo_users, system(request, "sign-in")) if _development(request) else []
    context: dict[str, object] = {"error": None, "account_error": None, "signed_out": False, "username": ""}
    context.update(extra)
    return render(
        request, "sign_in.html", status_code=status, users=users, describe=describe, next=local_path(next_path),
        development=_development(request), csrf=csrf_token(request), user=None,
        oidc=oidc_enabled(settings(request)), oidc_label=settings(request).oidc_label, **context,
    )  # fmt: skip


@router.get("/sign-in", include_in_schema=False)
@public
async def sign_in_page(
    request: Request, next_path: Annotated[str, Query(alias="next")] = "/", signed_out: bool = False
) -> Response:
    return await _page(request, next_path, signed_out=signed_out)


def _signed_in_from_account(request: Request, username: str, password: str, code: str) -> SignedIn | None:
    account = gate(request).accounts.sign_in(username, password, code or None, _client(request))
    if account is None:
        return None
    held = catalogue().get(account.role)
    return SignedIn(
        account.username, account.user_ref, account.display_name, account.role, held.label,
        account.organisation, account.organisation_name or "",
    )  # fmt: skip


def _throttled(request: Request, username: str) -> int | None:
    """Seconds to wait when the name tried or this address has failed too often lately (audited), else None."""
    config = settings(request)
    limits = [
        (f"account:{fold(username)}", config.sign_in_failures_per_account),
        (f"address:{_client(request)}", config.sign_in_failures_per_address),
    ]
    wait = gate(request).accounts.throttle.retry_after(limits, config.rate_limit_window_seconds)
    if wait is not None:
        actor = Actor(f"Account/{fold(username)}", None, None, None, _client(request), "web")
        gate(request).audit.record(actor, "sign-in-throttled", "failure", [f"Account/{fold(username)}"])
    return wait


async def _account_sign_in(
    request: Request, username: str, password: str, code: str, next_path: str
) -> SignedIn | Response:
    wait = await run_in_threadpool(_throttled, request, username)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        response = await _page(
            request, next_path, 429, username=username,
            account_error=f"Too many attempts to sign in. Wait {minutes} minute{'s' if minutes > 1 else ''} "
            "and try again.",
        )  # fmt: skip
        response.headers["Retry-After"] = str(wait)
        return response
    who = await run_in_threadpool(_signed_in_from_account, request, username, password, code)
    if who is None:
        gate(request).accounts.throttle.failed([f"account:{fold(username)}", f"address:{_client(request)}"])
        return await _page(request, next_path, 400, account_error=NOT_RIGHT, username=username)
    return who


@router.post("/sign-in", include_in_schema=False)
@public
async def sign_in_submit(
    request: Request,
    demo_user: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    if username or password:
        if not csrf_ok(request, csrf):
            return await _page(request, next_path, 403, account_error="Your session expired: sign in again")
        outcome = await _account_sign_in(request, username, password, code, next_path)
        if isinstance(outcome, Response):
            return outcome
        who, account = outcome, local_account(username)
    else:
        if not _development(request):
            return await _page(request, next_path, 400, account_error=NOT_RIGHT)
        users = await run_in_threadpool(demo_users, system(request, "sign-in"))
        chosen = next((u for u in users if u.key == demo_user), None)
        if chosen is None:
            return await _page(request, next_path, 400, error="Select who you want to sign in as")
        who, account = chosen, f"demo:{chosen.key}"
        actor = Actor(who.user, who.role, who.organisation, None, _client(request), "web")
        await run_in_threadpool(gate(request).audit.record, actor, "sign-in", "success", [], [], {"how": "demo"})
    await run_in_threadpool(sign_in, request, who, account)
    return see_other(local_path(next_path))


# --- OpenID Connect -----------------------------------------------------------------------------------------------
def _provider(request: Request) -> Any:
    """The Authlib client for the configured provider, made once per app (it caches the discovery document)."""
    state = request.app.state
    if getattr(state, "oidc_provider", None) is None:
        state.oidc_provider = build_provider(settings(request))
    return state.oidc_provider


def _refused_page(request: Request, message: str, status: int = 403) -> Response:
    return render(request, "sign_in_refused.html", status_code=status, message=message, user=None)


@router.get("/sign-in/oidc", include_in_schema=False)
@public
async def oidc_start(request: Request, next_path: Annotated[str, Query(alias="next")] = "/") -> Response:
    if not oidc_enabled(settings(request)):
        return _refused_page(request, "Signing in with an identity provider is not set up here", 404)
    request.session[OIDC_NEXT] = local_path(next_path)
    callback = f"{settings(request).base_url.rstrip('/')}/sign-in/oidc/callback"
    try:
        redirect: Response = await _provider(request).authorize_redirect(request, callback)
    except (HTTPError, OAuthError, RuntimeError, ValueError):
        return _refused_page(request, "The identity provider cannot be reached just now. Try again later.", 502)
    return redirect


def _audit_refusal(request: Request, why: str, detail: dict[str, Any]) -> None:
    actor = Actor("Account/oidc", None, None, None, _client(request), "web")
    gate(request).audit.record(actor, "sign-in-failed", "failure", [], [], {"how": "oidc", "why": why, **detail})


@router.get("/sign-in/oidc/callback", include_in_schema=False)
@public
async def oidc_callback(request: Request) -> Response:
    config = settings(request)
    if not oidc_enabled(config):
        return _refused_page(request, "Signing in with an identity provider is not set up here", 404)
    try:
        token = await _provider(request).authorize_access_token(request, claims_options=id_token_checks(config))
    except (OAuthError, JoseError, HTTPError, ValueError, KeyError) as error:
        await run_in_threadpool(_audit_refusal, request, "provider", {"error": type(error).__name__})
        return _refused_page(request, "Signing in with your identity provider did not work. Try again.")
    claims = token.get("userinfo")
    if not isinstance(claims, dict):  # Authlib only checks an ID token the provider sent: none is a failure
        await run_in_threadpool(_audit_refusal, request, "no-id-token", {})
        return _refused_page(request, "Signing in with your identity provider did not work. Try again.")
    try:
        identity = await run_in_threadpool(resolve, system(request, "sign-in"), dict(claims), config)
    except Refused as refused:
        await run_in_threadpool(_audit_refusal, request, refused.why, {"subject": str(claims.get("sub", ""))})
        return _refused_page(request, str(refused))
    held = catalogue().get(identity.role)
    who = SignedIn(
        identity.account, identity.user_ref, identity.name, identity.role, held.label, identity.organisation,
        identity.organisation_name,
    )  # fmt: skip
    next_path = local_path(str(request.session.get(OIDC_NEXT) or "/"))
    actor = Actor(who.user, who.role, who.organisation, None, _client(request), "web")
    detail = {"how": "oidc", "provider_role": identity.provider_code}
    await run_in_threadpool(gate(request).audit.record, actor, "sign-in", "success", [identity.account], [], detail)
    await run_in_threadpool(sign_in, request, who, identity.account)
    return see_other(next_path)


@router.post("/sign-out", include_in_schema=False)
async def sign_out_submit(request: Request) -> Response:
    who = signed_in(request)
    if who is not None:
        actor = Actor(who.user, who.role, who.organisation, None, _client(request), "web")
        await run_in_threadpool(gate(request).audit.record, actor, "sign-out")
    await run_in_threadpool(sign_out, request)
    return see_other("/sign-in?signed_out=true")
