"""The development sign-in: pick a demo user of a role and organisation; refused outside development and test."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..demo_users import demo_users, describe
from ..session import DEVELOPMENT_ENVIRONMENTS, sign_in, sign_out
from ..templating import render
from .common import gate, local_path, see_other, settings

router = APIRouter()


def _unavailable(request: Request) -> Response | None:
    if settings(request).environment in DEVELOPMENT_ENVIRONMENTS:
        return None
    return render(request, "sign_in_unavailable.html", status_code=403, user=None)


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(
    request: Request, next_path: Annotated[str, Query(alias="next")] = "/", signed_out: bool = False
) -> Response:
    refused = _unavailable(request)
    if refused is not None:
        return refused
    users = await run_in_threadpool(demo_users, gate(request))
    return render(
        request,
        "sign_in.html",
        users=users,
        describe=describe,
        next=local_path(next_path),
        signed_out=signed_out,
        error=None,
        user=None,
    )


@router.post("/sign-in", include_in_schema=False)
async def sign_in_submit(
    request: Request, demo_user: Annotated[str, Form()] = "", next_path: Annotated[str, Form(alias="next")] = "/"
) -> Response:
    refused = _unavailable(request)
    if refused is not None:
        return refused
    users = await run_in_threadpool(demo_users, gate(request))
    chosen = next((u for u in users if u.key == demo_user), None)
    if chosen is None:
        return render(
            request,
            "sign_in.html",
            status_code=400,
            users=users,
            describe=describe,
            next=local_path(next_path),
            signed_out=False,
            error="Select who you want to sign in as",
            user=None,
        )
    sign_in(request, chosen)
    return see_other(local_path(next_path))


@router.post("/sign-out", include_in_schema=False)
async def sign_out_submit(request: Request) -> Response:
    sign_out(request)
    return see_other("/sign-in?signed_out=true")
