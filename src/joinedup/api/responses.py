"""FHIR JSON responses and Bundles (searchset, history, transaction-response) with paging links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.responses import Response

from joinedup.fhir import dates
from joinedup.store.results import SearchPage, Version

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = b"" if body is None else orjson.dumps(body)
    return Response(
        content=content, status_code=status, media_type=FHIR_JSON if body is not None else None, headers=headers
    )


def version_headers(
    resource_type: str, resource_id: str, version_id: int, last_updated: int, base: str
) -> dict[str, str]:
    moment = dates.from_micros(last_updated)
    return {
        "ETag": f'W/"{version_id}"',
        "Last-Modified": moment.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Location": f"{base}/{resource_type}/{resource_id}/_history/{version_id}",
    }


def page_links(
    url: str,
    params: Sequence[tuple[str, str]],
    count: int,
    offset: int,
    has_next: bool,
) -> list[dict[str, str]]:
    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*params, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{url}?{query}"}

    links = [link("self", offset)]
    if has_next:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(offset - count, 0)))
    return links


def searchset(
    base: str,
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]],
    total: int | None,
    links: list[dict[str, str]],
) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in matches
    ]
    entries += [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "include"}}
        for r in included
    ]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    bundle["entry"] = entries
    return bundle


def history_bundle(
    base: str,
    versions: list[Version],
    total: int | None,
    links: list[dict[str, str]],
) -> dict[str, Any]:
    entries = []
    for v in versions:
        entry: dict[str, Any] = {"fullUrl": f"{base}/{v.resource_type}/{v.id}"}
        if v.content is not None:
            entry["resource"] = v.content
        method = "DELETE" if v.deleted else ("POST" if v.method == "POST" else "PUT")
        url = v.resource_type if method == "POST" else f"{v.resource_type}/{v.id}"
        entry["request"] = {"method": method, "url": url}
        entry["response"] = {
            "status": "204" if v.deleted else ("201" if v.version_id == 1 else "200"),
            "etag": f'W/"{v.version_id}"',
            "lastModified": dates.format_instant(dates.from_micros(v.last_updated)),
        }
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    bundle["entry"] = entries
    return bundle


def searchset_bytes(base: str, page: SearchPage, links: list[dict[str, str]]) -> bytes:
    """The searchset Bundle with each resource's stored JSON spliced in as it is: no parse, no re-serialise."""
    parts = [b'{"resourceType":"Bundle","type":"searchset"']
    if page.total is not None:
        parts.append(b',"total":%d' % page.total)
    parts.append(b',"link":' + orjson.dumps(links) + b',"entry":[')
    entries = [(f, b"match") for f in page.found] + [(f, b"include") for f in page.found_included]
    for index, (found, mode) in enumerate(entries):
        full_url = orjson.dumps(f"{base}/{found.resource_type}/{found.id}")
        parts.append(
            b'%s{"fullUrl":%s,"resource":%s,"search":{"mode":"%s"}}'
            % (b"," if index else b"", full_url, found.raw, mode)
        )
    parts.append(b"]}")
    return b"".join(parts)
