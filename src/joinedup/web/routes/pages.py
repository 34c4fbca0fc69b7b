"""Home (per role) and person search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..home import WORK_PAGE, home_for
from ..person_search import SearchForm, criteria, find
from ..session import require_user
from ..templating import render
from .common import handle

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request, page: int = 1) -> Response:
    who = require_user(request)
    shown = await run_in_threadpool(home_for, handle(request, who), who, max(1, page))
    return render(request, "home.html", home=shown, page=max(1, page), page_size=WORK_PAGE)


@router.get("/search", include_in_schema=False)
async def search_page(request: Request) -> Response:
    who = require_user(request)
    if who.is_resident:
        return _residents_do_not_search(request)
    return render(request, "search.html", form=SearchForm(), results=None)


@router.post("/search", include_in_schema=False)
async def search(
    request: Request,
    form: Annotated[SearchForm, Depends(SearchForm.posted)],
) -> Response:
    """A POST, so that NHS numbers and names never appear in URLs, access logs, history or Referer headers."""
    who = require_user(request)
    if who.is_resident:
        return _residents_do_not_search(request)
    results = None
    wanted = criteria(form)
    if wanted is not None:
        results = await run_in_threadpool(find, handle(request, who), wanted)
    status = 400 if form.errors else 200
    return render(request, "search.html", status_code=status, form=form, results=results)


def _residents_do_not_search(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=403,
        title="You cannot search for other people",
        message="As a resident you can see your own record from your home page.",
    )
