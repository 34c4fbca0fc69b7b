"""Read paths: read, vread, search (with includes), history, $everything — each under the asker's visibility."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    union,
)

from joinedup.fhir.errors import Gone, NotFound
from joinedup.fhir.search_request import IncludeSpec, SearchRequest

from .context import StoreContext, Visibility
from .results import Found, HistoryPage, SearchPage, Version
from .schema import idx_reference, resource_versions, resources
from .search_compiler import SearchShape, count_query, live_rows, matching_shape, page_query

P = ParamSpec("P")
T = TypeVar("T")

MAX_INCLUDE_ROUNDS = 4  # :iterate stops here, so a cycle of references cannot run away
MAX_INCLUDED = 5000


def _visible(visibility: Visibility, row: FromClause) -> list[ColumnElement[bool]]:
    gate = visibility.condition(row)
    return [] if gate is None else [gate]


def kept_per_visibility(build: Callable[P, T]) -> Callable[P, T]:
    """`build`, its statements kept (the 1,024 last used) per visibility and shape, and reused: SQLAlchemy memoises a
    statement's cache key and columns on the object, and building and keying a fresh one was a large share of a
    read or `$everything` (decisions 0008, 0009). The values are bound per call; the visibility conditions read
    the clock at execution (access/visibility.py), so reuse is safe. An unhashable visibility is built afresh."""
    cached = lru_cache(maxsize=1024)(build)

    def kept(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return cached(*args, **kwargs)  # type: ignore[arg-type]  # unhashable arguments are caught below
        except TypeError:
            return build(*args, **kwargs)

    return kept


@kept_per_visibility
def _read_statement(visibility: Visibility) -> Select[tuple[int, int, bool, bytes | None]]:
    row = resources.alias("r")
    return select(row.c.version_id, row.c.last_updated, row.c.deleted, row.c.content).where(
        row.c.resource_type == bindparam("read_type"), row.c.id == bindparam("read_id"), *_visible(visibility, row)
    )


def read_current(conn: Connection, ctx: StoreContext, resource_type: str, resource_id: str) -> Version:
    found = conn.execute(_read_statement(ctx.visibility), {"read_type": resource_type, "read_id": resource_id}).first()
    if found is None:
        raise NotFound(f"{resource_type}/{resource_id} is not known")
    if found.deleted:
        raise Gone(f"{resource_type}/{resource_id} was deleted (version {found.version_id})")
    return Version(resource_type, resource_id, found.version_id, found.last_updated, False, found.content)


def read_version(conn: Connection, ctx: StoreContext, resource_type: str, resource_id: str, version_id: int) -> Version:
    row = resources.alias("r")
    found = conn.execute(
        select(
            resource_versions.c.last_updated,
            resource_versions.c.deleted,
            resource_versions.c.content,
            resource_versions.c.method,
        )
        .select_from(resource_versions.join(row, row.c.pk == resource_versions.c.resource_pk))
        .where(
            row.c.resource_type == resource_type,
            row.c.id == resource_id,
            resource_versions.c.version_id == version_id,
            *_visible(ctx.visibility, row),
        )
    ).first()
    if found is None:
        raise NotFound(f"{resource_type}/{resource_id} has no version {version_id}")
    if found.deleted:
        raise Gone(f"Version {version_id} of {resource_type}/{resource_id} records its deletion")
    return Version(resource_type, resource_id, version_id, found.last_updated, False, found.content, found.method)


COUNTED_TOTALS = ("accurate", "estimate")  # _total asked for: every match counted (decision 0013)


def answered_by_one_statement(request: SearchRequest) -> bool:
    """Whether `search` answers this request with one statement (its page, or its count), so needs no transaction
    of its own: on PostgreSQL two trips to the server fewer (BEGIN, COMMIT). Includes read further statements, and
    a counted total may need a count after the page; those must see one snapshot, in a transaction."""
    return not request.includes and not request.revincludes and request.total not in COUNTED_TOTALS


def search(
    conn: Connection,
    ctx: StoreContext,
    request: SearchRequest,
    extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
) -> SearchPage:
    shape = matching_shape(request, ctx.visibility, extra)
    binds = shape.binds
    total: int | None = None
    statements = _KeptStatements(request, shape, ctx.visibility)
    if request.summary == "count" or request.count == 0:
        # _summary=count is a count and nothing else, so it is always counted; _count=0 unless _total=none.
        wanted = request.summary == "count" or request.total != "none"
        total = conn.execute(statements.count(), binds or None).scalar_one() if wanted else None
        return SearchPage([], [], total, has_next=False)
    counted = request.total in COUNTED_TOTALS
    rows = list(conn.execute(statements.page(counted), binds or None).all())
    has_next = len(rows) > request.count
    if counted:
        # A page past the end has no row to carry the total: only then is it counted on its own.
        total = int(rows[0].total) if rows else 0 if request.offset == 0 else None
        if total is None:
            total = conn.execute(statements.count(), binds or None).scalar_one()
    elif request.total is None and not has_next and (rows or request.offset == 0):
        total = request.offset + len(rows)  # not asked, but free: this page reaches the last match
    # Rows by position (pk, resource_type, id, content: search_compiler._page_of): a Row's attribute look-up by
    # name is a Python call per field, about a sixth of a 50-row page's handling.
    page = [(r[0], r[1], r[2], r[3]) for r in rows[: request.count]]
    matches = [Found(resource_type, resource_id, content) for _, resource_type, resource_id, content in page]
    included = _includes(
        conn, ctx, request, [(pk, resource_type, resource_id) for pk, resource_type, resource_id, _ in page]
    )
    return SearchPage(matches, included, total, has_next)


_KEPT_SEARCHES: dict[tuple[Any, ...], tuple[Select[Any], tuple[ColumnElement[bool], ...]]] = {}
_KEPT_SEARCHES_LIMIT = 2048
_kept_searches_guard = threading.Lock()


class _KeptStatements:
    """A search's page and count statements, kept when every criterion's condition is kept (decision 0009): the
    type, the visibility, those conditions (by identity; the entry holds them, so an id is never reused while it
    is kept), the sort and the paging decide them. Building and keying them walked every kept condition again
    per request.

    The page is one statement: the keys (with the total as a window count when it is wanted), then the JSON of the
    page's rows only (search_compiler.page_query, decision 0011); it was a second statement by key."""

    def __init__(
        self,
        request: SearchRequest,
        shape: SearchShape,
        visibility: Visibility,
    ) -> None:
        self.request, self.shape, self.visibility = request, shape, visibility

    def page(self, with_total: bool) -> Select[Any]:
        fetch = replace(self.request, count=self.request.count + 1)
        variant = ("page", with_total, tuple(fetch.sort), fetch.count, fetch.offset)
        shape = self.shape

        def build() -> Select[Any]:
            return page_query(fetch, shape.row, shape.conditions, with_total, shape.index_lead())

        return self._kept(variant, build)

    def count(self) -> Select[Any]:
        shape = self.shape
        return self._kept(("count",), lambda: count_query(shape.row, shape.conditions, shape.index_lead()))

    def _kept(self, variant: tuple[Any, ...], build: Callable[[], Select[Any]]) -> Select[Any]:
        kept = self.shape.kept
        if kept is None:
            return build()
        try:
            key = (self.request.resource_type, self.visibility, tuple(id(c) for c in kept), *variant)
            hash(key)
        except TypeError:  # an unhashable visibility: build it afresh
            return build()
        found = _KEPT_SEARCHES.get(key)
        if found is not None:
            return found[0]
        statement = build()
        with _kept_searches_guard:
            if len(_KEPT_SEARCHES) >= _KEPT_SEARCHES_LIMIT:
                _KEPT_SEARCHES.pop(next(iter(_KEPT_SEARCHES)), None)
            _KEPT_SEARCHES[key] = (statement, kept)
        return statement


def _includes(
    conn: Connection, ctx: StoreContext, request: SearchRequest, page: list[tuple[int, str, str]]
) -> list[Found]:
    seen = {pk for pk, _, _ in page}
    found: list[Found] = []
    frontier = page
    for round_number in range(MAX_INCLUDE_ROUNDS):
        specs = [s for s in request.includes if round_number == 0 or s.iterate]
        revs = [s for s in request.revincludes if round_number == 0 or s.iterate]
        if not frontier or not (specs or revs) or len(found) >= MAX_INCLUDED:
            break
        rows = [r for s in specs for r in _forward(conn, ctx, s, frontier)]
        rows += [r for s in revs for r in _reverse(conn, ctx, s, frontier)]
        frontier = []
        for pk, resource_type, resource_id, content in rows:
            if pk in seen:
                continue
            seen.add(pk)
            frontier.append((pk, resource_type, resource_id))
            found.append(Found(resource_type, resource_id, content))
    return found[:MAX_INCLUDED]


def _forward(
    conn: Connection, ctx: StoreContext, spec: IncludeSpec, sources: Sequence[tuple[int, str, str]]
) -> list[Any]:
    source_pks = [pk for pk, resource_type, _ in sources if resource_type == spec.source_type]
    if not source_pks:
        return []
    target = resources.alias("t")
    conditions = [idx_reference.c.resource_pk.in_(source_pks), *live_rows(target, spec.target_type, ctx.visibility)]
    if spec.parameter is not None:
        conditions.append(idx_reference.c.param == spec.parameter.name)
    query = (
        select(target.c.pk, target.c.resource_type, target.c.id, target.c.content)
        .distinct()
        .select_from(
            idx_reference.join(
                target,
                and_(target.c.resource_type == idx_reference.c.target_type, target.c.id == idx_reference.c.target_id),
            )
        )
        .where(*conditions)
    )
    return list(conn.execute(query).all())


def _reverse(
    conn: Connection, ctx: StoreContext, spec: IncludeSpec, targets: Sequence[tuple[int, str, str]]
) -> list[Any]:
    by_type: dict[str, list[str]] = {}
    for _, resource_type, resource_id in targets:
        if spec.target_type is None or spec.target_type == resource_type:
            by_type.setdefault(resource_type, []).append(resource_id)
    if not by_type:
        return []
    source = resources.alias("s")
    pointing = or_(
        *(and_(idx_reference.c.target_type == t, idx_reference.c.target_id.in_(ids)) for t, ids in by_type.items())
    )
    conditions = [
        pointing,
        idx_reference.c.resource_type == spec.source_type,
        *live_rows(source, spec.source_type, ctx.visibility),
    ]
    if spec.parameter is not None:
        conditions.append(idx_reference.c.param == spec.parameter.name)
    query = (
        select(source.c.pk, source.c.resource_type, source.c.id, source.c.content)
        .distinct()
        .select_from(idx_reference.join(source, source.c.pk == idx_reference.c.resource_pk))
        .where(*conditions)
    )
    return list(conn.execute(query).all())


def history(
    conn: Connection,
    ctx: StoreContext,
    resource_type: str | None,
    resource_id: str | None,
    since: int | None,
    count: int,
    offset: int,
) -> HistoryPage:
    """Versions newest first: of one resource, of a type, or of the whole system."""
    row = resources.alias("r")
    versions = resource_versions
    conditions: list[ColumnElement[bool]] = list(_visible(ctx.visibility, row))
    if resource_type is not None:
        conditions.append(versions.c.resource_type == resource_type)
    if resource_id is not None:
        conditions.append(versions.c.id == resource_id)
    if since is not None:
        conditions.append(versions.c.last_updated >= since)
    joined = versions.join(row, row.c.pk == versions.c.resource_pk)
    if resource_id is not None and resource_type is not None:
        exists_now = conn.execute(
            select(row.c.pk).where(
                row.c.resource_type == resource_type, row.c.id == resource_id, *_visible(ctx.visibility, row)
            )
        ).first()
        if exists_now is None:
            raise NotFound(f"{resource_type}/{resource_id} is not known")
    total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(
            versions.c.resource_type,
            versions.c.id,
            versions.c.version_id,
            versions.c.last_updated,
            versions.c.deleted,
            versions.c.content,
            versions.c.method,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(versions.c.last_updated.desc(), versions.c.resource_pk.desc(), versions.c.version_id.desc())
        .limit(count + 1)
        .offset(offset)
    ).all()
    page = [Version(*r) for r in rows[:count]]  # the columns above are Version's first seven fields, in order
    return HistoryPage(page, total, has_next=len(rows) > count)


def _everything_rows(
    row: FromClause,
    visibility: Visibility,
    patient_ids: Sequence[str] | BindParameter[Any],
    since: int | BindParameter[Any] | None = None,
    types: Sequence[str] | BindParameter[Any] | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions on `row` for Patient/$everything: the patients, every resource that refers to them, and what
    those refer to, as `visibility` allows. The patients, the moment and the types are values, or bind parameters
    of the statement kept for the shape (`_everything_statements`)."""
    ids = patient_ids if isinstance(patient_ids, BindParameter) else list(patient_ids)
    compartment = select(idx_reference.c.resource_pk).where(
        idx_reference.c.target_type == "Patient", idx_reference.c.target_id.in_(ids)
    )
    patients = select(resources.c.pk).where(resources.c.resource_type == "Patient", resources.c.id.in_(ids))
    outward = idx_reference.alias("o")
    referenced_row = resources.alias("ref")
    referenced = (
        select(referenced_row.c.pk)
        .select_from(
            outward.join(
                referenced_row,
                and_(
                    referenced_row.c.resource_type == outward.c.target_type, referenced_row.c.id == outward.c.target_id
                ),
            )
        )
        .where(outward.c.resource_pk.in_(compartment), referenced_row.c.resource_type != "Patient")
    )
    members = union(patients, compartment, referenced).subquery()
    conditions = [row.c.pk.in_(select(members.c[0])), *live_rows(row, None, visibility)]
    if since is not None:
        conditions.append(row.c.last_updated >= since)
    if types is not None and (isinstance(types, BindParameter) or types):
        conditions.append(row.c.resource_type.in_(types if isinstance(types, BindParameter) else list(types)))
    return conditions


def everything_includes_any(conn: Connection, visibility: Visibility, patient_ids: Sequence[str]) -> bool:
    """Whether any of these patients' $everything rows meets `visibility`: one EXISTS, no count."""
    row = resources.alias("r")
    return bool(conn.execute(select(exists().where(*_everything_rows(row, visibility, patient_ids)))).scalar())


@kept_per_visibility
def _everything_statements(
    visibility: Visibility, with_since: bool, with_types: bool
) -> tuple[Select[tuple[str, str, bytes | None, int]], Select[tuple[int]]]:
    """The page and count statements of $everything, the patients, moment, types and paging bound per call."""
    row = resources.alias("r")
    conditions = _everything_rows(
        row,
        visibility,
        bindparam("everything_ids", expanding=True),
        bindparam("everything_since") if with_since else None,
        bindparam("everything_types", expanding=True) if with_types else None,
    )
    # The total rides on the page's rows as a window count (worked out before LIMIT): one pass over the person's
    # rows and their visibility checks instead of two. Only a page past the end needs a separate count.
    page = (
        select(row.c.resource_type, row.c.id, row.c.content, func.count().over().label("total"))
        .where(*conditions)
        .order_by((row.c.resource_type != "Patient").asc(), row.c.resource_type, row.c.pk)
        .limit(bindparam("everything_limit"))
        .offset(bindparam("everything_offset"))
    )
    return page, count_query(row, conditions)


def everything(
    conn: Connection,
    ctx: StoreContext,
    patient_ids: Sequence[str],
    since: int | None,
    types: Sequence[str] | None,
    count: int,
    offset: int,
) -> SearchPage:
    """Patient/$everything: the patients, every resource that refers to them, and what those refer to."""
    page, counting = _everything_statements(ctx.visibility, since is not None, bool(types))
    values: dict[str, Any] = {
        "everything_ids": list(patient_ids),
        "everything_limit": count + 1,
        "everything_offset": offset,
    }
    if since is not None:
        values["everything_since"] = since
    if types:
        values["everything_types"] = list(types)
    rows = conn.execute(page, values).all()
    total = int(rows[0][3]) if rows else conn.execute(counting, values).scalar_one()
    matches = [Found(r[0], r[1], r[2]) for r in rows[:count]]  # by position (see search): type, id, content, total
    return SearchPage(matches, [], total, has_next=len(rows) > count)
