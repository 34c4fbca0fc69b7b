"""Pages for reviewing possible record links: the queue, and one review with both records and the evidence.

Reads through the gate as the signed-in reviewer; a decision is the same `Reviewer` call as the API's, so it is
recorded as a Provenance with the reviewer as agent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.fhir.errors import Forbidden, InvalidRequest, NotFound
from joinedup.identity.index_store import IndexStore
from joinedup.identity.resources import ReviewStatus
from joinedup.identity.review import Reviewer, may_decide_links
from joinedup.identity.review_view import ReviewView, field_label, review_view

from ..routes.common import gate, see_other
from ..session import SignedIn, require_user
from ..templating import render

router = APIRouter()
QUEUE_PAGE = 25
METHODS = {"probabilistic": "Similar details", "sparse": "Too few details to match", "deterministic": "NHS number"}


def _not_a_reviewer(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=403,
        title="You cannot review record links",
        message="Your role does not allow you to decide whether records belong to the same person.",
    )


def _queue(request: Request, who: SignedIn) -> list[ReviewView]:
    system = IndexStore(gate(request))
    viewer = IndexStore(gate(request), who.access_context(request))
    views = []
    for item in system.reviews(ReviewStatus.OPEN):  # only what the gate lets this reviewer see
        view = review_view(system, viewer, item.id)
        if view.visible:
            views.append(view)
            if len(views) == QUEUE_PAGE:
                break
    return views


@router.get("/identity/review", include_in_schema=False)
async def queue_page(request: Request, done: str = "") -> Response:
    who = require_user(request)
    if not may_decide_links(who.role):
        return _not_a_reviewer(request)
    views = await run_in_threadpool(_queue, request, who)
    notice = {"accepted": "Records linked.", "rejected": "Records kept apart."}.get(done, "")
    return render(request, "identity/queue.html", views=views, methods=METHODS, notice=notice)


@router.get("/identity/review/{task_id}", include_in_schema=False)
async def review_page(request: Request, task_id: str) -> Response:
    who = require_user(request)
    if not may_decide_links(who.role):
        return _not_a_reviewer(request)
    viewer = IndexStore(gate(request), who.access_context(request))
    try:
        view = await run_in_threadpool(review_view, IndexStore(gate(request)), viewer, task_id)
        if not view.visible:
            raise NotFound("not visible to this reviewer")
    except NotFound:
        return render(request, "error.html", status_code=404, title="Review not found",
                      message="There is no review with this identifier.")  # fmt: skip
    return _render_review(request, view, error="")


def _render_review(request: Request, view: ReviewView, error: str, status_code: int = 200) -> Response:
    return render(
        request,
        "identity/review.html",
        status_code=status_code,
        view=view,
        methods=METHODS,
        label=field_label,
        error=error,
    )


@router.post("/identity/review/{task_id}", include_in_schema=False)
async def decide(request: Request, task_id: str, decision: Annotated[str, Form()] = "") -> Response:
    who = require_user(request)
    if not may_decide_links(who.role):
        return _not_a_reviewer(request)
    viewer = IndexStore(gate(request), who.access_context(request))
    reviewer = Reviewer(IndexStore(gate(request)), viewer)
    try:
        if decision == "accept":
            await run_in_threadpool(reviewer.accept, task_id)
            return see_other("/identity/review?done=accepted")
        if decision == "reject":
            await run_in_threadpool(reviewer.reject, task_id)
            return see_other("/identity/review?done=rejected")
        problem = "Select whether these records are the same person"
    except (InvalidRequest, Forbidden) as error:
        problem = error.message
    except NotFound:
        return render(request, "error.html", status_code=404, title="Review not found",
                      message="There is no review with this identifier.")  # fmt: skip
    view = await run_in_threadpool(review_view, IndexStore(gate(request)), viewer, task_id)
    return _render_review(request, view, error=problem, status_code=400)
