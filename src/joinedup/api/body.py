"""Reading a request body: bounded (413 before reading more than the limit), then JSON, then a FHIR resource."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from joinedup.fhir.errors import InvalidRequest, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise InvalidRequest("The request has no body", location="$")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"Malformed JSON: {error}", code="structure", location=f"$ (char {error.pos})") from None


async def read_resource(request: Request, limit: int) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type:
        raise InvalidRequest(
            f"Unsupported content type '{content_type}': send application/fhir+json", code="not-supported"
        )
    parsed = parse_json(await read_body(request, limit))
    if not isinstance(parsed, dict):
        raise InvalidRequest("The body must be a JSON object holding one FHIR resource", code="structure", location="$")
    return parsed
