"""Bundles: transactions are all or nothing (one database transaction), batches answer entry by entry.

A transaction's entries may refer to each other by fullUrl (`urn:uuid:…`) and to existing resources by search
(`Patient?identifier=…`); both are resolved to `Type/id` before anything is written, and after the writes every
relative reference in what was written must point at a resource that exists, or the whole transaction is undone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Connection, and_, select

from joinedup.fhir import dates
from joinedup.fhir.errors import FhirError, InvalidRequest, NotFound, PreconditionFailed, UnprocessableEntity
from joinedup.fhir.references import is_conditional, parse_reference, reference_holders
from joinedup.fhir.resource_types import require_r4_type
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.validation import validate_resource

from . import reads
from .context import StoreContext
from .fhir_store import FhirStore, Outcome
from .results import Version
from .schema import resources
from .writer import Written

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 3, "GET": 4, "HEAD": 4}


@dataclass
class EntryResult:
    status: str
    resource: dict[str, Any] | None = None
    location: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    outcome: dict[str, Any] | None = None


@dataclass
class _Entry:
    index: int
    method: str
    url: str
    full_url: str | None
    resource: dict[str, Any] | None
    request: dict[str, Any]
    target: tuple[str, str] | None = None  # the (type, id) this entry writes
    results: list[EntryResult] = field(default_factory=list)


def _entries(bundle: dict[str, Any]) -> list[_Entry]:
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise InvalidRequest("Bundle.entry must be an array", location="Bundle.entry")
    entries = []
    for index, entry in enumerate(raw):
        where = f"Bundle.entry[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if (
            not isinstance(request, dict)
            or not isinstance(request.get("method"), str)
            or not isinstance(request.get("url"), str)
        ):
            raise InvalidRequest("Each entry needs request.method and request.url", location=f"{where}.request")
        method = request["method"].upper()
        if method not in _ORDER:
            raise InvalidRequest(f"Unsupported method '{method}'", location=f"{where}.request.method")
        resource = entry.get("resource")
        if method in {"POST", "PUT"} and not isinstance(resource, dict):
            raise InvalidRequest(f"A {method} entry needs a resource", location=f"{where}.resource")
        entries.append(_Entry(index, method, request["url"].lstrip("/"), entry.get("fullUrl"), resource, request))
    return entries


def _type_and_query(url: str, where: str) -> tuple[str, str | None, str | None]:
    """'Patient' → (Patient, None, None); 'Patient/1' → (Patient, '1', None); 'Patient?x=y' → (Patient, None, 'x=y')."""
    path, _, query = url.partition("?")
    parts = [p for p in urlsplit(path).path.split("/") if p]
    if not parts:
        raise InvalidRequest(f"'{url}' names no resource type", location=where)
    require_r4_type(parts[0])
    return parts[0], parts[1] if len(parts) > 1 else None, query or None


class BundleProcessor:
    def __init__(self, store: FhirStore, keep_ids: bool = False) -> None:
        self.store = store
        self.keep_ids = keep_ids  # the loader: a POSTed resource keeps its own id, so a re-load changes nothing

    def transaction(self, ctx: StoreContext, bundle: dict[str, Any]) -> list[EntryResult]:
        entries = _entries(bundle)
        with self.store.writing() as conn:
            self._assign_targets(conn, ctx, entries)
            self._rewrite_references(conn, ctx, entries)
            for entry in sorted(entries, key=lambda e: (_ORDER[e.method], e.index)):
                entry.results.append(self._execute(conn, ctx, entry))
            self._check_references(conn, entries)
        return [e.results[0] for e in entries]

    def batch(
        self, ctx: StoreContext, bundle: dict[str, Any], outcome_of: Callable[[FhirError], dict[str, Any]]
    ) -> list[EntryResult]:
        results = []
        for entry in _entries(bundle):
            try:
                with self.store.writing() as conn:
                    self._assign_targets(conn, ctx, [entry])
                    self._rewrite_references(conn, ctx, [entry])
                    results.append(self._execute(conn, ctx, entry))
            except FhirError as error:
                results.append(EntryResult(status=f"{error.status}", outcome=outcome_of(error)))
        return results

    # --- steps -----------------------------------------------------------------------------------------------
    def _assign_targets(self, conn: Connection, ctx: StoreContext, entries: list[_Entry]) -> None:
        for entry in entries:
            where = f"Bundle.entry[{entry.index}].request.url"
            resource_type, resource_id, query = _type_and_query(entry.url, where)
            if entry.method == "POST":
                if_none_exist = entry.request.get("ifNoneExist")
                found = self.store.find_ids(conn, ctx, resource_type, if_none_exist) if if_none_exist else []
                if len(found) > 1:
                    raise PreconditionFailed(f"ifNoneExist of entry {entry.index} matches more than one resource")
                own_id = entry.resource.get("id") if entry.resource and self.keep_ids else None
                entry.target = (resource_type, found[0] if found else own_id or str(uuid.uuid4()))
                entry.request = {**entry.request, "_existing": bool(found)}
            elif entry.method in {"PUT", "PATCH", "DELETE"} and query is not None:
                found = self.store.find_ids(conn, ctx, resource_type, query)
                if len(found) > 1:
                    raise PreconditionFailed(f"Entry {entry.index}'s criteria match more than one resource")
                fallback = (entry.resource or {}).get("id") or str(uuid.uuid4())
                entry.target = (
                    (resource_type, found[0])
                    if found
                    else ((resource_type, fallback) if entry.method == "PUT" else None)
                )
            elif resource_id is not None:
                entry.target = (resource_type, resource_id)

    def _rewrite_references(self, conn: Connection, ctx: StoreContext, entries: list[_Entry]) -> None:
        by_full_url = {e.full_url: f"{e.target[0]}/{e.target[1]}" for e in entries if e.full_url and e.target}
        for entry in entries:
            if entry.resource is None:
                continue
            if entry.target and entry.method in {"POST", "PUT"}:
                entry.resource["id"] = entry.target[1]
            for location, holder in reference_holders(entry.resource, f"Bundle.entry[{entry.index}].resource"):
                text = str(holder["reference"])
                if text in by_full_url:
                    holder["reference"] = by_full_url[text]
                elif text.startswith("urn:uuid:") or text.startswith("urn:oid:"):
                    raise UnprocessableEntity(f"Reference '{text}' matches no entry's fullUrl", location=location)
                elif is_conditional(text):
                    holder["reference"] = self._resolve_conditional(conn, ctx, text, location)

    def _resolve_conditional(self, conn: Connection, ctx: StoreContext, text: str, location: str) -> str:
        resource_type, _, query = text.partition("?")
        request = parse_search(resource_type, parse_qsl(query), strict=True)
        request.count, request.total = 2, "none"
        found = reads.search(conn, ctx, request).matches
        if len(found) != 1:
            problem = "no resource" if not found else "more than one resource"
            raise UnprocessableEntity(f"Conditional reference '{text}' matches {problem}", location=location)
        return f"{resource_type}/{found[0]['id']}"

    def _execute(self, conn: Connection, ctx: StoreContext, entry: _Entry) -> EntryResult:
        store = self.store
        resource_type, resource_id, query = _type_and_query(entry.url, f"Bundle.entry[{entry.index}].request.url")
        if entry.method in {"GET", "HEAD"}:
            return self._get(conn, ctx, resource_type, resource_id, query)
        if entry.target is None:
            if entry.method == "DELETE":
                return EntryResult(status="204 No Content")
            raise NotFound(f"Entry {entry.index} names no resource to {entry.method.lower()}")
        target_type, target_id = entry.target
        if entry.method == "DELETE":
            outcome = store.delete(ctx, target_type, target_id, conn=conn)
            return EntryResult(status="204 No Content")
        if entry.method == "PATCH":
            raise InvalidRequest(
                "PATCH inside a Bundle is not supported; use PUT", location=f"Bundle.entry[{entry.index}]"
            )
        assert entry.resource is not None
        if entry.method == "POST" and entry.request.get("_existing"):
            current = reads.read_current(conn, ctx, target_type, target_id)
            return _result(Outcome(_existing_written(current)), "200 OK")
        if entry.method == "POST" and not self.keep_ids:
            validate_resource(entry.resource, expected_type=resource_type)
        outcome = store.update(
            ctx, target_type, target_id, entry.resource, conn=conn, if_match=_if_match(entry.request.get("ifMatch"))
        )
        created = outcome.written.created
        return _result(outcome, "201 Created" if created else "200 OK")

    def _get(
        self, conn: Connection, ctx: StoreContext, resource_type: str, resource_id: str | None, query: str | None
    ) -> EntryResult:
        if resource_id is not None:
            version = reads.read_current(conn, ctx, resource_type, resource_id)
            return EntryResult(status="200 OK", resource=version.content, etag=f'W/"{version.version_id}"')
        request = parse_search(resource_type, parse_qsl(query or ""))
        page = reads.search(conn, ctx, request)
        searchset: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
        if page.total is not None:  # given when asked for or free (decision 0013); never null
            searchset["total"] = page.total
        searchset["entry"] = [{"resource": r, "search": {"mode": "match"}} for r in page.matches]
        return EntryResult(status="200 OK", resource=searchset)

    def _check_references(self, conn: Connection, entries: list[_Entry]) -> None:
        wanted: dict[tuple[str, str], str] = {}
        for entry in entries:
            if entry.resource is None or entry.method not in {"POST", "PUT"}:
                continue
            for location, holder in reference_holders(entry.resource, f"Bundle.entry[{entry.index}].resource"):
                parsed = parse_reference(str(holder["reference"]))
                if parsed is not None and parsed.base is None:
                    wanted.setdefault((parsed.resource_type, parsed.resource_id), location)
        if not wanted:
            return
        keys = list(wanted)
        # One query per type with `id IN (...)`: SQLite answers a row-value IN (type, id) with a scan of every
        # resource (about 90 ms a query on a borough-sized store), the type-and-id pair with its unique index.
        ids_by_type: dict[str, list[str]] = {}
        for resource_type, resource_id in keys:
            ids_by_type.setdefault(resource_type, []).append(resource_id)
        present: set[tuple[str, str]] = set()
        for resource_type, ids in ids_by_type.items():
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(resources.c.id).where(
                        and_(
                            resources.c.resource_type == resource_type,
                            resources.c.id.in_(ids[start : start + 500]),
                            resources.c.deleted.is_(False),
                        )
                    )
                ).all()
                present.update((resource_type, r.id) for r in rows)
        for key in keys:
            if key not in present:
                raise UnprocessableEntity(
                    f"Reference '{key[0]}/{key[1]}' points at a resource that does not exist", location=wanted[key]
                )


def _if_match(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    digits = value.replace("W/", "").strip('"')
    return int(digits) if digits.isdigit() else None


def _existing_written(current: Version) -> Written:
    return Written(
        current.content,
        current.resource_type,
        current.id,
        current.version_id,
        current.last_updated,
        created=False,
        changed=False,
    )


def _result(outcome: Outcome, status: str) -> EntryResult:
    written = outcome.written
    return EntryResult(
        status=status,
        resource=written.resource,
        location=f"{written.resource_type}/{written.id}/_history/{written.version_id}",
        etag=f'W/"{written.version_id}"',
        last_modified=dates.format_instant(dates.from_micros(written.last_updated)),
    )
