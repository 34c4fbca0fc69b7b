"""The Jinja2 environment for the pages: templates shipped in the package, autoescaped, with the page helpers."""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from .csrf import csrf_token
from .role_pages import pages_for
from .session import signed_in

SERVICE_NAME = "JoinedUp"


def _environment() -> Environment:
    env = Environment(
        # the web shell's templates, and the care domain's (templates/care/<sub-domain>/…)
        loader=ChoiceLoader([PackageLoader("joinedup.web", "templates"), PackageLoader("joinedup.care", "templates")]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["service_name"] = SERVICE_NAME
    env.globals["pages_for"] = pages_for  # the pages each role may use, for the header's menu and the home page
    return env


templates = Jinja2Templates(env=_environment())


def is_htmx(request: Request) -> bool:
    """An htmx request for part of a page (not a history restore, which needs the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; every page knows who is signed in (for the header), whether htmx asked, and the session's
    CSRF token (`csrf`) that each of its forms sends back."""
    context.setdefault("user", signed_in(request))
    context.setdefault("csrf", csrf_token(request))
    context.setdefault("htmx", is_htmx(request))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
