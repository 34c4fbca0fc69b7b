"""Routes that answer without credentials are declared so where they are declared: `@public` on the endpoint (or
`public(mount_app)` for static files). Every other route needs a bearer token or a signed-in session, checked
before the route runs by api/credentials.py (decision 0311). tests/api/test_nothing_open.py lists the public routes,
so adding one is a visible change."""

from __future__ import annotations

from typing import Any, TypeVar

PUBLIC_MARK = "__joinedup_public__"
Target = TypeVar("Target")


def public(target: Target) -> Target:
    """Declare an endpoint (or a mounted ASGI app) as answering without credentials; returns it unchanged."""
    setattr(target, PUBLIC_MARK, True)
    return target


def is_public(endpoint: Any) -> bool:
    return bool(getattr(endpoint, PUBLIC_MARK, False))
