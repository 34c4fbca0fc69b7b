"""Compile a parsed search into one SQL query (SQLAlchemy Core), with the access gate's condition inside it."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, select
from sqlalchemy.sql.elements import ColumnElement as Col

from joinedup.fhir.cardinality import single_valued
from joinedup.fhir.search_parameters import parameters_for
from joinedup.fhir.search_request import ChainCriterion, Criterion, HasCriterion, ParamCriterion, SearchRequest, SortKey

from .context import Visibility
from .schema import INDEX_TABLES, idx_reference, resources
from .search_conditions import KEPT, Binds, dates_condition, index_kind, param_condition


def live_rows(resource_row: FromClause, resource_type: str | None, visibility: Visibility) -> list[ColumnElement[bool]]:
    """Conditions every returned resource meets: the type, not deleted, and visible to the asker."""
    conditions: list[ColumnElement[bool]] = [resource_row.c.deleted.is_(False)]
    if resource_type is not None:
        conditions.insert(0, resource_row.c.resource_type == resource_type)
    gate = visibility.condition(resource_row)
    if gate is not None:
        conditions.append(gate)
    return conditions


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
) -> list[ColumnElement[bool]]:
    """One condition per criterion, except that criteria on the same single-valued date parameter (a range given
    as ge/le) become one lookup of the row that meets them all, which the index bounds on both ends. One criterion
    leads (an `_id`, else the narrowest kind); the rest are probes of the candidates it finds."""
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
    return conditions


# One alias of resources for every search, so that conditions kept for a search's shape (which name their row) fit
# every search that has that shape.
SEARCH_ROW = resources.alias("r")


def matching(
    request: SearchRequest,
    visibility: Visibility,
    extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
) -> tuple[FromClause, list[ColumnElement[bool]], Binds]:
    """The resources alias and the full WHERE of a search, shared by the page and the count, and the values of the
    bind parameters of the conditions kept for its shape (to be passed with every statement built on them)."""
    row, conditions, binds, _ = matching_shape(request, visibility, extra)
    return row, conditions, binds


def matching_shape(
    request: SearchRequest,
    visibility: Visibility,
    extra: Callable[[FromClause], ColumnElement[bool]] | None = None,
) -> tuple[FromClause, list[ColumnElement[bool]], Binds, tuple[ColumnElement[bool], ...] | None]:
    """`matching`, and the criteria's kept conditions when every criterion has one (None otherwise): with the
    type, the visibility and the paging they decide the whole statement (reads.py keeps it)."""
    row = SEARCH_ROW
    binds: Binds = {}
    conditions = _search_row_live(request.resource_type, visibility)
    criteria = _criteria_conditions(request.criteria, row, request.resource_type, visibility, binds)
    conditions += criteria
    if extra is not None:
        conditions.append(extra(row))
    kept = tuple(criteria) if extra is None and all(id(c) in KEPT for c in criteria) else None
    return row, conditions, binds, kept


def _search_row_live(resource_type: str, visibility: Visibility) -> list[ColumnElement[bool]]:
    """live_rows for SEARCH_ROW, kept per type and visibility: the gate's condition is a tree of sub-queries that
    took longer to build than a kept statement takes to run. Reuse is safe as for kept statements (decision
    0008: the conditions hold no data, and the clock is read at execution). An unhashable visibility: built."""
    try:
        return list(_kept_live(resource_type, visibility))  # type: ignore[arg-type]  # unhashable: caught below
    except TypeError:
        return live_rows(SEARCH_ROW, resource_type, visibility)


@lru_cache(maxsize=1024)
def _kept_live(resource_type: str, visibility: Visibility) -> tuple[ColumnElement[bool], ...]:
    return tuple(live_rows(SEARCH_ROW, resource_type, visibility))


def page_query(
    request: SearchRequest, row: FromClause, conditions: list[ColumnElement[bool]], with_total: bool = False
) -> Select[tuple[object, ...]]:
    """The page: its keys first, in order (every candidate's checks read only indexes: the type and liveness from
    `ix_resources_type_deleted_pk`, the criteria and the gate's conditions from the index tables), then the JSON of
    the page's own rows only. Selecting the JSON beside the checks made SQLite read each candidate's whole row, on
    the page or not (decision 0011). With `with_total`, every row carries the number of matches (`total`) as a
    window count worked out before the limit: one pass over the matches for the page and the total (0008)."""
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
    whole = resources.alias("page_row")
    outer = [_ordered(keys.c[f"sort{n}"], key.descending) for n, key in enumerate(request.sort)]
    return (
        select(whole.c.pk, whole.c.resource_type, whole.c.id, whole.c.content, *(keys.c.total for _ in counted))
        .select_from(keys.join(whole, whole.c.pk == keys.c.pk))
        .order_by(*outer, keys.c.pk.asc())
    )


def _ordered(value: Col[object], descending: bool) -> Col[object]:
    return value.desc().nulls_last() if descending else value.asc().nulls_last()


def count_query(row: FromClause, conditions: list[ColumnElement[bool]]) -> Select[tuple[int]]:
    return select(func.count()).select_from(row).where(and_(*conditions))
