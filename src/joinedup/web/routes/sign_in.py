"""Sign-in: local accounts (username, password, optional security code) always; in development and test, also a
pick-a-demo-user list. Both write the same SignedIn into a fresh session (no session fixation) and are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.access.audit.trail import Actor
from joinedup.access.roles import catalogue

from ..csrf import csrf_ok, csrf_token
from ..demo_users import demo_users, describe
from ..session import DEVELOPMENT_ENVIRONMENTS, SignedIn, sign_in, sign_out, signed_in
from ..templating import render
from .common import gate, local_path, see_other, settings

router = APIRouter()
NOT_RIGHT = "The username, password or security code is not right, or the account is locked for a while"


def _development(request: Request) -> bool:
    return settings(request).environment in DEVELOPMENT_ENVIRONMENTS


async def _page(request: Request, next_path: str, status: int = 200, **extra: object) -> Response:
    users = await run_in_threadpool(demo_users, gate(request)) if _development(request) else []
    context: dict[str, object] = {"error": None, "account_error": None, "signed_out": False, "username": ""}
    context.update(extra)
    return render(
        request, "sign_in.html", status_code=status, users=users, describe=describe, next=local_path(next_path),
        development=_development(request), csrf=csrf_token(request), user=None, **context,
    )  # fmt: skip


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(
    request: Request, next_path: Annotated[str, Query(alias="next")] = "/", signed_out: bool = False
) -> Response:
    return await _page(request, next_path, signed_out=signed_out)


def _signed_in_from_account(request: Request, username: str, password: str, code: str) -> SignedIn | None:
    client = request.client.host if request.client else None
    account = gate(request).accounts.sign_in(username, password, code or None, client)
    if account is None:
        return None
    held = catalogue().get(account.role)
    return SignedIn(
        account.username, account.user_ref, account.display_name, account.role, held.label,
        account.organisation, account.organisation_name or "",
    )  # fmt: skip


@router.post("/sign-in", include_in_schema=False)
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
        who = await run_in_threadpool(_signed_in_from_account, request, username, password, code)
        if who is None:
            return await _page(request, next_path, 400, account_error=NOT_RIGHT, username=username)
    else:
        if not _development(request):
            return await _page(request, next_path, 400, account_error=NOT_RIGHT)
        users = await run_in_threadpool(demo_users, gate(request))
        chosen = next((u for u in users if u.key == demo_user), None)
        if chosen is None:
            return await _page(request, next_path, 400, error="Select who you want to sign in as")
        who = chosen
        client = request.client.host if request.client else None
        actor = Actor(who.user, who.role, who.organisation, None, client, "web")
        await run_in_threadpool(gate(request).audit.record, actor, "sign-in", "success", [], [], {"how": "demo"})
    sign_in(request, who)
    return see_other(local_path(next_path))


@router.post("/sign-out", include_in_schema=False)
async def sign_out_submit(request: Request) -> Response:
    who = signed_in(request)
    if who is not None:
        client = request.client.host if request.client else None
        actor = Actor(who.user, who.role, who.organisation, None, client, "web")
        await run_in_threadpool(gate(request).audit.record, actor, "sign-out")
    sign_out(request)
    return see_other("/sign-in?signed_out=true")
