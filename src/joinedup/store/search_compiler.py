"""Compile a parsed search into one SQL query (SQLAlchemy Core), with the access gate's condition inside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, select
from sqlalchemy.sql.elements import BinaryExpression, ColumnClause
from sqlalchemy.sql.elements import ColumnElement as Col
from sqlalchemy.sql.operators import in_op
from sqlalchemy.sql.selectable import ScalarSelect, Subquery
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from joinedup.fhir.cardinality import single_valued
from joinedup.fhir.search_parameters import parameters_for
from joinedup.fhir.search_request import ChainCriterion, Criterion, HasCriterion, ParamCriterion, SearchRequest, SortKey

from .context import Visibility
from .schema import INDEX_TABLES, idx_reference, resources
from .search_conditions import KEPT, Binds, dates_condition, index_kind, param_condition


def live_rows(resource_row: FromClause, resource_type: str | None, visibility: Visibility) -> list[ColumnElement[bool]]:
    """Conditions every returned resource meets: the type, not deleted, and visible to the asker."""
    return _live_and_gate(resource_row, resource_type, visibility)[0]


def _live_and_gate(
    resource_row: FromClause, resource_type: str | None, visibility: Visibility
) -> tuple[list[ColumnElement[bool]], bool]:
    """live_rows, and whether the asker's visibility added a condition to them."""
    conditions: list[ColumnElement[bool]] = [resource_row.c.deleted.is_(False)]
    if resource_type is not None:
        conditions.insert(0, resource_row.c.resource_type == resource_type)
    gate = visibility.condition(resource_row)
    if gate is not None:
        conditions.append(gate)
    return conditions, gate is not None


def criterion_condition(
    criterion: Criterion, resource_row: FromClause, resource_type: str, visibility: Visibility
) -> ColumnElement[bool]:
    if isinstance(criterion, ParamCriterion):
        return param_condition(criterion, resource_row, resource_type)
    if isinstance(criterion, ChainCriterion):
        return _chain_condition(criterion, resource_row, resource_type, visibility)
    return _has_condition(criterion, resource_row, resource_type, visibility)


def _chain_condition(
    criterion: ChainCriterion, resource_row: FromClause, resource_type: str, visibility: Visibility
) -> ColumnElement[bool]:
    target = resources.alias()
    link = idx_reference.alias()
    matching_targets = select(target.c.id).where(
        *live_rows(target, criterion.target_type, visibility),
        criterion_condition(criterion.inner, target, criterion.target_type, visibility),
    )
    return resource_row.c.pk.in_(
        select(link.c.resource_pk).where(
            link.c.resource_type == resource_type,
            link.c.param == criterion.reference.name,
            link.c.target_type == criterion.target_type,
            link.c.target_id.in_(matching_targets),
        )
    )


def _has_condition(
    criterion: HasCriterion, resource_row: FromClause, resource_type: str, visibility: Visibility
) -> ColumnElement[bool]:
    source = resources.alias()
    link = idx_reference.alias()
    return resource_row.c.id.in_(
        select(link.c.target_id)
        .select_from(link.join(source, source.c.pk == link.c.resource_pk))
        .where(
            link.c.resource_type == criterion.source_type,
            link.c.param == criterion.reference.name,
            link.c.target_type == resource_type,
            *live_rows(source, criterion.source_type, visibility),
            criterion_condition(criterion.inner, source, criterion.source_type, visibility),
        )
    )


def compartment_condition(resource_type: str, patient_id: str, resource_row: FromClause) -> ColumnElement[bool]:
    """The resource is in Patient/patient_id's compartment: one of its Patient references points there."""
    if resource_type == "Patient":
        return resource_row.c.id == patient_id
    names = [p.name for p in parameters_for(resource_type).values() if p.type == "reference" and "Patient" in p.targets]
    link = idx_reference.alias()
    return resource_row.c.pk.in_(
        select(link.c.resource_pk).where(
            link.c.target_id == patient_id,
            link.c.target_type == "Patient",
            link.c.resource_type == resource_type,
            link.c.param.in_(names),
        )
    )


def _sort_expression(key: SortKey, resource_row: FromClause) -> Col[object]:
    parameter = key.parameter
    if parameter.name == "_id":
        return resource_row.c.id
    if parameter.name == "_lastUpdated":
        return resource_row.c.last_updated
    table = INDEX_TABLES[index_kind(parameter)].alias()
    column = {
        "string": "value",
        "token": "code",
        "date": "high" if key.descending else "low",
        "number": "value",
        "quantity": "value",
        "uri": "value",
    }[index_kind(parameter)]
    aggregate = func.max if key.descending else func.min
    return (
        select(aggregate(table.c[column]))
        .where(table.c.resource_pk == resource_row.c.pk, table.c.param == parameter.name)
        .scalar_subquery()
    )


_NEVER_LEADS = 9


def _lead_rank(criterion: Criterion | list[ParamCriterion]) -> int:
    """How narrow a criterion's matches usually are (lower: narrower). The narrowest leads the search as
    `pk IN (its matches)`; the others probe each candidate's own index rows."""
    first = criterion[0] if isinstance(criterion, list) else criterion
    if not isinstance(first, ParamCriterion):
        return _NEVER_LEADS  # chains and _has keep their own IN
    if first.modifier in {"missing", "not", "text", "contains"}:
        return _NEVER_LEADS
    ranks = {"reference": 1, "token": 2, "special": 2, "string": 3, "uri": 3, "number": 3, "quantity": 3, "date": 4}
    return ranks.get(first.parameter.type, _NEVER_LEADS)


def _criteria_conditions(
    criteria: list[Criterion], row: FromClause, resource_type: str, visibility: Visibility, binds: Binds | None = None
) -> tuple[list[ColumnElement[bool]], int | None]:
    """One condition per criterion, except that criteria on the same single-valued date parameter (a range given
    as ge/le) become one lookup of the row that meets them all, which the index bounds on both ends. One criterion
    leads (an `_id`, else the narrowest kind); the rest are probes of the candidates it finds. Returns the
    conditions and the position of the leading one (None when nothing leads)."""
    date_groups: dict[str, list[ParamCriterion]] = {}
    units: list[Criterion | list[ParamCriterion]] = []
    for criterion in criteria:
        if (
            isinstance(criterion, ParamCriterion)
            and criterion.modifier is None
            and criterion.parameter.type == "date"
            and single_valued(criterion.parameter)
        ):
            if criterion.parameter.name not in date_groups:
                units.append(date_groups.setdefault(criterion.parameter.name, []))
            date_groups[criterion.parameter.name].append(criterion)
        else:
            units.append(criterion)
    by_id = any(isinstance(u, ParamCriterion) and u.parameter.name == "_id" and u.modifier is None for u in units)
    ranked = sorted((_lead_rank(u), n) for n, u in enumerate(units))
    lead = None if by_id or not ranked or ranked[0][0] == _NEVER_LEADS else ranked[0][1]
    conditions: list[ColumnElement[bool]] = []
    for number, unit in enumerate(units):
        probe = number != lead and _lead_rank(unit) != _NEVER_LEADS
        if isinstance(unit, list):
            conditions.append(dates_condition(unit, row, resource_type, probe, binds))
        elif isinstance(unit, ParamCriterion):
            conditions.append(param_condition(unit, row, resource_type, probe, binds))
        else:
            conditions.append(criterion_condition(unit, row, resource_type, visibility))
    return conditions, lead


# One alias of resources for every search, so that conditions kept for a search's shape (which name their row) fit
# every search that has that shape.
SEARCH_ROW = resources.alias("r")


class SearchShape(NamedTuple):
    """What `matching_shape` works out for a search."""

    row: FromClause
    conditions: list[ColumnElement[bool]]
    binds: Binds
    kept: tuple[ColumnElement[bool], ...] | None
    """The criteria's kept conditions when every criterion has one (None otherwise): with the type, the
    visibility and the paging they decide the whole statement (reads.py keeps it)."""
    criteria: list[ColumnElement[bool]]
    lead: int | None
    """The position among `criteria` of the one that leads, if one does."""
    open_to_asker: bool
    """The asker's visibility adds no condition and no extra condition applies (a compartment's)."""

    def index_lead(self) -> IndexLead | None:
        """The IndexLead, when the page's keys can come from the index rows alone. Worked out only when a
        statement is built (a kept statement is built once per shape)."""
        if self.lead is None or not self.open_to_asker:
            return None
        others = [c for n, c in enumerate(self.criteria) if n != self.lead]
        return _index_lead(self.row, self.criteria[self.lead], others)


@dataclass(frozen=True)
class IndexLead:
    """A search whose keys can be found in the index tables without visiting a `resources` row per candidate.

    The leading criterion's matches are index rows, and an index row exists only for the current, live version of
    a resource of the row's type (writes replace a resource's rows, a delete removes them: store/writer.py). So
    when the asker's visibility adds no condition, the type and liveness checks on `resources` (one index probe
    per candidate, 404 of them for a day's Encounters) decide nothing: the keys are the lead's pks, checked by the
    other criteria's probes on those pks. Decision 0016."""

    pks: Select[Any]
    probes: tuple[ColumnElement[bool], ...]


def matching(
    request: SearchRequest,
    visibility: Visibility,
    extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
) -> tuple[FromClause, list[ColumnElement[bool]], Binds]:
    """The resources alias and the full WHERE of a search, shared by the page and the count, and the values of the
    bind parameters of the conditions kept for its shape (to be passed with every statement built on them)."""
    shape = matching_shape(request, visibility, extra)
    return shape.row, shape.conditions, shape.binds


def matching_shape(
    request: SearchRequest,
    visibility: Visibility,
    extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
) -> SearchShape:
    """`matching`, the criteria's kept conditions, and the index lead when there is one."""
    row = SEARCH_ROW
    binds: Binds = {}
    live, gated = _search_row_live(request.resource_type, visibility)
    criteria, lead = _criteria_conditions(request.criteria, row, request.resource_type, visibility, binds)
    conditions = live + criteria
    if extra is not None:
        conditions.append(extra(row))
    kept = tuple(criteria) if extra is None and all(id(c) in KEPT for c in criteria) else None
    return SearchShape(row, conditions, binds, kept, criteria, lead, not gated and extra is None)


def _index_lead(row: FromClause, lead: ColumnElement[bool], others: list[ColumnElement[bool]]) -> IndexLead | None:
    """The IndexLead of a search led by `row.pk IN (index pks)`, when every other criterion reads only `row.pk`
    (a chain or `_has` on the row's id needs the row: None)."""
    if not (
        isinstance(lead, BinaryExpression)
        and lead.operator is in_op
        and lead.left is row.c.pk
        and isinstance(lead.right, ScalarSelect)
        and isinstance(lead.right.element, Select)
    ):
        return None
    for condition in others:
        if _row_columns(condition, row) - {"pk"}:
            return None
    return IndexLead(lead.right.element, tuple(others))


def _row_columns(condition: ColumnElement[bool], row: FromClause) -> set[str]:
    """The names of `row`'s columns that a condition reads, at any depth."""
    return {e.name for e in iterate(condition) if isinstance(e, ColumnClause) and e.table is row}


def _search_row_live(resource_type: str, visibility: Visibility) -> tuple[list[ColumnElement[bool]], bool]:
    """live_rows for SEARCH_ROW, kept per type and visibility, and whether the visibility added a condition: the
    gate's condition is a tree of sub-queries that took longer to build than a kept statement takes to run. Reuse
    is safe as for kept statements (decision 0008: the conditions hold no data, and the clock is read at
    execution). An unhashable visibility: built."""
    try:
        live, gated = _kept_live(resource_type, visibility)  # type: ignore[arg-type]  # unhashable: caught below
    except TypeError:
        live, gated = _live(resource_type, visibility)
    return list(live), gated


def _live(resource_type: str, visibility: Visibility) -> tuple[tuple[ColumnElement[bool], ...], bool]:
    conditions, gated = _live_and_gate(SEARCH_ROW, resource_type, visibility)
    return tuple(conditions), gated


_kept_live = lru_cache(maxsize=1024)(_live)


def page_query(
    request: SearchRequest,
    row: FromClause,
    conditions: list[ColumnElement[bool]],
    with_total: bool = False,
    index_lead: IndexLead | None = None,
) -> Select[tuple[object, ...]]:
    """The page: its keys first, in order (every candidate's checks read only indexes: the type and liveness from
    `ix_resources_type_deleted_pk`, the criteria and the gate's conditions from the index tables), then the JSON of
    the page's own rows only. Selecting the JSON beside the checks made SQLite read each candidate's whole row, on
    the page or not (decision 0011). With `with_total`, every row carries the number of matches (`total`) as a
    window count worked out before the limit: one pass over the matches for the page and the total (0008).
    With an index lead (and the default order, no total), the keys come from the lead's index rows (0016)."""
    if index_lead is not None and not request.sort and not with_total:
        return _page_of(_lead_keys(index_lead, row, request), [])
    ordering: list[Col[object]] = []
    sort_values: list[Col[object]] = []
    for number, key in enumerate(request.sort):
        sort_values.append(_sort_expression(key, row).label(f"sort{number}"))
        ordering.append(_ordered(sort_values[-1], key.descending))
    counted = [func.count().over().label("total")] if with_total else []
    keys = (
        select(row.c.pk, *sort_values, *counted)
        .where(and_(*conditions))
        .order_by(*ordering, row.c.pk.asc())
        .limit(request.count)
        .offset(request.offset)
        .subquery("page_keys")
    )
    return _page_of(keys, request.sort, with_total)


def _page_of(keys: Subquery, sort: Sequence[SortKey], with_total: bool = False) -> Select[tuple[object, ...]]:
    """The JSON of the rows of the page whose keys (and sort values) are `keys`, in order."""
    whole = resources.alias("page_row")
    outer = [_ordered(keys.c[f"sort{n}"], key.descending) for n, key in enumerate(sort)]
    totals = [keys.c.total] if with_total else []
    return (
        select(whole.c.pk, whole.c.resource_type, whole.c.id, whole.c.content, *totals)
        .select_from(keys.join(whole, whole.c.pk == keys.c.pk))
        .order_by(*outer, keys.c.pk.asc())
    )


def _lead_rows(index_lead: IndexLead, row: FromClause) -> tuple[Col[Any], list[ColumnElement[bool]]]:
    """The lead's pk column (its index rows as a FROM), and the other criteria's probes rewritten from `row.pk` to
    it."""
    lead = index_lead.pks.subquery("lead_rows")
    pk: Col[Any] = lead.c[0]

    def on_lead(element: Any, **_: Any) -> Any:
        return pk if element is row.c.pk else None

    probes = [replacement_traverse(probe, {}, on_lead) for probe in index_lead.probes]
    return pk, probes


def _lead_keys(index_lead: IndexLead, row: FromClause, request: SearchRequest) -> Subquery:
    pk, probes = _lead_rows(index_lead, row)
    return (
        select(pk.label("pk"))
        .distinct()  # a resource can have several matching index rows (two dates of a day, two owners)
        .where(*probes)
        .order_by(pk.asc())
        .limit(request.count)
        .offset(request.offset)
        .subquery("page_keys")
    )


def _ordered(value: Col[object], descending: bool) -> Col[object]:
    return value.desc().nulls_last() if descending else value.asc().nulls_last()


def count_query(
    row: FromClause, conditions: list[ColumnElement[bool]], index_lead: IndexLead | None = None
) -> Select[tuple[int]]:
    if index_lead is not None:
        pk, probes = _lead_rows(index_lead, row)
        return select(func.count(pk.distinct())).where(*probes)
    return select(func.count()).select_from(row).where(and_(*conditions))
