"""OAuth2 token endpoint (client credentials) and the SMART on FHIR configuration that advertises it."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .deps import services

router = APIRouter()
SMART_CAPABILITIES = ["client-confidential-symmetric", "permission-v2", "permission-v1"]
SMART_SCOPES = ["system/*.cruds", "system/*.rs", "user/*.cruds", "user/*.rs", "user/Observation.rs"]


def smart_configuration(base_url: str) -> dict[str, Any]:
    root = base_url.rstrip("/")
    return {
        "issuer": root,
        "token_endpoint": f"{root}/auth/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": SMART_SCOPES,
        "capabilities": SMART_CAPABILITIES,
        "code_challenge_methods_supported": ["S256"],
    }


@router.get("/.well-known/smart-configuration", include_in_schema=False)
@router.get("/fhir/.well-known/smart-configuration")
async def well_known(request: Request) -> Response:
    return JSONResponse(smart_configuration(services(request).settings.base_url))


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def _oauth_error(code: str, status: int = 400) -> Response:
    return JSONResponse({"error": code}, status_code=status, headers={"Cache-Control": "no-store"})


@router.post("/auth/token")
async def token(
    request: Request,
    grant_type: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
) -> Response:
    if grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type")
    credentials = _basic(request) or (client_id, client_secret)
    if not credentials[0]:
        return _oauth_error("invalid_client", 401)
    client = request.client.host if request.client else None
    tokens = services(request).gate.tokens
    issued = await run_in_threadpool(tokens.client_credentials, credentials[0], credentials[1], scope, client)
    if issued is None:
        return _oauth_error("invalid_client", 401)
    if not issued.scope:
        return _oauth_error("invalid_scope")
    body = {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
            "scope": issued.scope}  # fmt: skip
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
