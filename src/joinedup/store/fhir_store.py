"""The store's one entry point: every read and write of a FHIR resource, each in its own transaction.

Callers (the access gate, the loader) pass a StoreContext; nothing else in the platform writes SQL for resources.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jsonpatch
from sqlalchemy import ColumnElement, Connection, Engine, FromClause

from joinedup.fhir.errors import InvalidRequest, InvalidResource, NotFound, PreconditionFailed
from joinedup.fhir.resource_types import NOT_STORED, require_r4_type
from joinedup.fhir.search_request import SearchRequest, parse_search
from joinedup.fhir.validation import validate_resource

from . import reads
from .context import StoreContext, Visibility
from .engine import SINGLE_STATEMENT, WRITE, is_postgres
from .person_links import linked_patient_ids
from .results import HistoryPage, SearchPage, Version
from .search_compiler import compartment_condition
from .writer import Written, write_version


@dataclass(frozen=True, slots=True)
class Outcome:
    """A write's result as the API reports it: the resource (None after delete) and whether it was new."""

    written: Written
    existing: dict[str, Any] | None = None  # conditional create found this one instead


class FhirStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def reading_one_statement(self) -> Iterator[Connection]:
        """A connection for one statement, which sees one snapshot on its own, so no transaction is opened for it:
        on PostgreSQL BEGIN and COMMIT were two of an audited read's eight trips to the server; on SQLite two more
        calls into the library, each letting go of the GIL and waiting to take it back."""
        if not is_postgres(self.engine):
            # Not isolation_level=AUTOCOMMIT: SQLAlchemy's reset of it on SQLite would hand transactions back to
            # the sqlite3 module, which the engine takes from it (store/engine.py).
            with self.engine.connect().execution_options(**SINGLE_STATEMENT) as conn, conn.begin():
                yield conn
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            yield conn

    # --- reads -----------------------------------------------------------------------------------------------
    def read(self, ctx: StoreContext, resource_type: str, resource_id: str) -> Version:
        require_r4_type(resource_type)
        with self.reading_one_statement() as conn:
            return reads.read_current(conn, ctx, resource_type, resource_id)

    def vread(self, ctx: StoreContext, resource_type: str, resource_id: str, version_id: int) -> Version:
        require_r4_type(resource_type)
        with self.reading_one_statement() as conn:
            return reads.read_version(conn, ctx, resource_type, resource_id, version_id)

    def search(
        self,
        ctx: StoreContext,
        request: SearchRequest,
        extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
    ) -> SearchPage:
        require_r4_type(request.resource_type)
        with self.reading_one_statement() if reads.answered_by_one_statement(request) else self.reading() as conn:
            return reads.search(conn, ctx, request, extra)

    def compartment_search(self, ctx: StoreContext, patient_id: str, request: SearchRequest) -> SearchPage:
        with self.reading() as conn:
            reads.read_current(conn, ctx, "Patient", patient_id)
            return reads.search(
                conn, ctx, request, lambda row: compartment_condition(request.resource_type, patient_id, row)
            )

    def history(
        self,
        ctx: StoreContext,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: int | None = None,
        count: int = 50,
        offset: int = 0,
    ) -> HistoryPage:
        if resource_type is not None:
            require_r4_type(resource_type)
        with self.reading() as conn:
            return reads.history(conn, ctx, resource_type, resource_id, since, count, offset)

    def everything(
        self,
        ctx: StoreContext,
        patient_id: str,
        since: int | None = None,
        types: Sequence[str] | None = None,
        count: int = 100,
        offset: int = 0,
    ) -> SearchPage:
        with self.reading() as conn:
            reads.read_current(conn, ctx, "Patient", patient_id)
            # Person index (decision 0200): every source Patient linked to the same Person, each item keeping its
            # meta.source; the gate's visibility still applies to every row.
            patient_ids = linked_patient_ids(conn, patient_id)
            return reads.everything(conn, ctx, patient_ids, since, types, count, offset)

    def everything_includes_any(self, ctx: StoreContext, patient_id: str, meeting: Visibility) -> bool:
        """Whether the person's $everything (the Patient readable under `ctx`, its linked sources with it) holds
        any resource that `meeting` allows: one EXISTS query, so a yes/no never costs a count."""
        with self.reading() as conn:
            reads.read_current(conn, ctx, "Patient", patient_id)
            return reads.everything_includes_any(conn, meeting, linked_patient_ids(conn, patient_id))

    # --- writes ----------------------------------------------------------------------------------------------
    def find_ids(self, conn: Connection, ctx: StoreContext, resource_type: str, query: str) -> list[str]:
        """Ids of the resources a conditional operation's criteria select (at most 2: enough to tell)."""
        request = parse_search(resource_type, _query_pairs(query), strict=True)
        if not request.criteria:
            raise InvalidRequest(f"Conditional criteria '{query}' select nothing specific", location=resource_type)
        request.count, request.total = 2, "none"
        return [r["id"] for r in reads.search(conn, ctx, request).matches]

    def create(
        self,
        ctx: StoreContext,
        resource: dict[str, Any],
        if_none_exist: str | None = None,
        conn: Connection | None = None,
    ) -> Outcome:
        resource_type = _storable(resource)
        with self._conn(conn) as c:
            if if_none_exist:
                found = self.find_ids(c, ctx, resource_type, if_none_exist)
                if len(found) > 1:
                    raise PreconditionFailed(f"If-None-Exist '{if_none_exist}' matches more than one {resource_type}")
                if found:
                    existing = reads.read_current(c, ctx, resource_type, found[0])
                    written = Written(
                        existing.content,
                        resource_type,
                        found[0],
                        existing.version_id,
                        existing.last_updated,
                        created=False,
                        changed=False,
                    )
                    return Outcome(written, existing.content)
            validate_resource(resource)
            new_id = str(uuid.uuid4())
            return Outcome(write_version(c, resource_type, new_id, resource, "POST"))

    def update(
        self,
        ctx: StoreContext,
        resource_type: str,
        resource_id: str,
        resource: dict[str, Any],
        if_match: int | None = None,
        conn: Connection | None = None,
    ) -> Outcome:
        require_r4_type(resource_type)
        validate_resource(resource, expected_type=resource_type)
        if resource.get("id") != resource_id:
            raise InvalidResource(
                f"The resource's id '{resource.get('id')}' does not match the URL's '{resource_id}'",
                location=f"{resource_type}.id",
            )
        with self._conn(conn) as c:
            return Outcome(write_version(c, resource_type, resource_id, resource, "PUT", if_match))

    def conditional_update(
        self,
        ctx: StoreContext,
        resource_type: str,
        query: str,
        resource: dict[str, Any],
        conn: Connection | None = None,
    ) -> Outcome:
        with self._conn(conn) as c:
            found = self.find_ids(c, ctx, resource_type, query)
            if len(found) > 1:
                raise PreconditionFailed(f"Conditional update '{query}' matches more than one {resource_type}")
            if found:
                resource_id = found[0]
                if resource.get("id") not in (None, resource_id):
                    raise InvalidResource(
                        "The resource's id does not match the resource the criteria found",
                        location=f"{resource_type}.id",
                    )
            else:
                resource_id = resource.get("id") or str(uuid.uuid4())
            resource["id"] = resource_id
            return self.update(ctx, resource_type, resource_id, resource, conn=c)

    def patch(
        self, ctx: StoreContext, resource_type: str, resource_id: str, operations: Any, if_match: int | None = None
    ) -> Outcome:
        with self.writing() as conn:
            current = reads.read_current(conn, ctx, resource_type, resource_id)
            try:
                patched = jsonpatch.apply_patch(current.content, operations)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as error:
                raise InvalidRequest(f"The JSON Patch cannot be applied: {error}", location="patch") from None
            if not isinstance(patched, dict) or patched.get("id") != resource_id:
                raise InvalidResource("A patch may not change the resource's id or type", location="id")
            return self.update(ctx, resource_type, resource_id, patched, if_match=if_match, conn=conn)

    def delete(
        self,
        ctx: StoreContext,
        resource_type: str,
        resource_id: str,
        conn: Connection | None = None,
    ) -> Outcome:
        require_r4_type(resource_type)
        with self._conn(conn) as c:
            return Outcome(write_version(c, resource_type, resource_id, None, "DELETE"))

    def conditional_delete(self, ctx: StoreContext, resource_type: str, query: str) -> list[Outcome]:
        with self.writing() as conn:
            found = self.find_ids(conn, ctx, resource_type, query)
            if len(found) > 1:
                raise PreconditionFailed(f"Conditional delete '{query}' matches more than one {resource_type}")
            return [self.delete(ctx, resource_type, i, conn=conn) for i in found]

    @contextmanager
    def _conn(self, conn: Connection | None) -> Iterator[Connection]:
        """Join the caller's transaction (a Bundle) or open a write transaction of our own."""
        if conn is not None:
            yield conn
        else:
            with self.writing() as own:
                yield own


def _storable(resource: Any) -> str:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise InvalidResource("The body is not a FHIR resource (no resourceType)", location="resourceType")
    resource_type = require_r4_type(resource["resourceType"])
    if resource_type in NOT_STORED:
        raise InvalidResource(f"{resource_type} is not stored as a resource", location="resourceType")
    return resource_type


def _query_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not pairs:
        raise NotFound(f"Conditional criteria '{query}' are empty")
    return pairs
