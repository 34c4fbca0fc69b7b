"""SQL building blocks for the access gate's visibility conditions (the gate decides; these only say it in SQL).

Everything here reads the search index tables, so a condition is decided from the same rows the searches use and
follows every write at once: a closed episode, a new Consent or a changed registration applies to the next query.
Sets of patients are uncorrelated sub-queries (each database evaluates them once per statement); the per-row
checks are EXISTS on the index tables' resource_pk index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    FromClause,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union,
)

from .schema import idx_reference, idx_token, resources


def referring(
    resource_type: str, params: Sequence[str], target_type: str, target_ids: Select[tuple[str]] | Sequence[str]
) -> Select[tuple[int]]:
    """Pks of `resource_type` resources whose `params` refer to `target_type/<one of target_ids>`."""
    ref = idx_reference.alias()
    targets = list(target_ids) if not isinstance(target_ids, Select) else target_ids
    return select(ref.c.resource_pk).where(
        ref.c.resource_type == resource_type,
        ref.c.param.in_(list(params)),
        ref.c.target_type == target_type,
        ref.c.target_id.in_(targets),
    )


def referring_any(
    resource_type: str, params: Sequence[str], targets: Sequence[tuple[str, Select[tuple[str]] | Sequence[str]]]
) -> Select[tuple[int]]:
    """Pks of `resource_type` resources whose `params` refer to any of several (target type, ids) pairs."""
    ref = idx_reference.alias()
    pairs = [
        and_(ref.c.target_type == target_type, ref.c.target_id.in_(ids if isinstance(ids, Select) else list(ids)))
        for target_type, ids in targets
    ]
    return select(ref.c.resource_pk).where(
        ref.c.resource_type == resource_type, ref.c.param.in_(list(params)), or_(*pairs)
    )


def with_token(resource_type: str, param: str, codes: Iterable[str], system: str | None = None) -> Select[tuple[int]]:
    """Pks of `resource_type` resources with a token `param` whose code is one of `codes` (and system, if given)."""
    token = idx_token.alias()
    conditions = [token.c.resource_type == resource_type, token.c.param == param, token.c.code.in_(list(codes))]
    if system is not None:
        conditions.append(token.c.system == system)
    return select(token.c.resource_pk).where(*conditions)


def patients_of(resource_type: str, *pk_sets: Select[tuple[int]]) -> Select[tuple[str]]:
    """Patient ids the `resource_type` resources in every one of `pk_sets` refer to (subject, patient, for …)."""
    ref = idx_reference.alias()
    return select(ref.c.target_id).where(
        ref.c.resource_type == resource_type,
        ref.c.target_type == "Patient",
        *(ref.c.resource_pk.in_(pks) for pks in pk_sets),
    )


def ids_of(resource_type: str, pks: Select[tuple[int]]) -> Select[tuple[str]]:
    """The ids of live `resource_type` resources among `pks`."""
    row = resources.alias()
    return select(row.c.id).where(row.c.resource_type == resource_type, row.c.deleted.is_(False), row.c.pk.in_(pks))


def referenced_ids(resource_type: str, resource_id: str, param: str, target_type: str) -> Select[tuple[str]]:
    """Ids that one resource's `param` refers to (a PractitionerRole's practitioner, say)."""
    row = resources.alias()
    ref = idx_reference.alias()
    owner = select(row.c.pk).where(row.c.resource_type == resource_type, row.c.id == resource_id)
    return select(ref.c.target_id).where(
        ref.c.resource_pk.in_(owner), ref.c.param == param, ref.c.target_type == target_type
    )


def token_codes_of(resource_type: str, resource_id: str, param: str, system: str) -> Select[tuple[str]]:
    """Codes one resource carries in a token parameter (an Organization's ODS code, say)."""
    row = resources.alias()
    token = idx_token.alias()
    owner = select(row.c.pk).where(row.c.resource_type == resource_type, row.c.id == resource_id)
    return select(token.c.code).where(token.c.resource_pk.in_(owner), token.c.param == param, token.c.system == system)


def any_of(*queries: Select[tuple[str]] | CompoundSelect[tuple[str]]) -> Select[tuple[str]]:
    """The union of id sets, as one sub-query usable in IN (…)."""
    # SQLite takes no parentheses around a compound member, so a compound becomes a plain SELECT from it first.
    plain = [q if isinstance(q, Select) else select(q.subquery().c[0]) for q in queries]
    if len(plain) == 1:
        return plain[0]
    united = union(*plain).subquery()
    return select(united.c[0])


def concerns_patients(row: FromClause, patient_ids: Select[tuple[str]]) -> ColumnElement[bool]:
    """The row is one of these Patients, or refers to one of them."""
    ref = idx_reference.alias()
    # coalesce(…) keeps PostgreSQL from pulling the IN up into a join inside this per-row EXISTS, which rebuilt a
    # hash of the whole set for every row (17 s for a queue of 3,500 Tasks against a set of 27,000 people); as an
    # expression it is a hashed sub-plan, built once per statement. SQLite builds its IN table once either way.
    in_set = func.coalesce(ref.c.target_id.in_(patient_ids), false())
    refers = exists(
        select(literal(1)).select_from(ref).where(ref.c.resource_pk == row.c.pk, ref.c.target_type == "Patient", in_set)
    )
    return or_(and_(row.c.resource_type == "Patient", row.c.id.in_(patient_ids)), refers)


def carries_label(row: FromClause, labels: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    """The row carries any of these (system, code) security labels in meta.security."""
    token = idx_token.alias()
    matches = or_(*(and_(token.c.system == system, token.c.code == code) for system, code in labels))
    return exists(
        select(literal(1))
        .select_from(token)
        .where(token.c.resource_pk == row.c.pk, token.c.param == "_security", matches)
    )


def carries_tag(row: FromClause, system: str, codes: Select[tuple[str]]) -> ColumnElement[bool]:
    """The row carries a meta.tag of `system` with one of `codes` (the source-organisation tag, say)."""
    token = idx_token.alias()
    return exists(
        select(literal(1))
        .select_from(token)
        .where(
            token.c.resource_pk == row.c.pk, token.c.param == "_tag", token.c.system == system, token.c.code.in_(codes)
        )
    )


def refers_to_a_patient(row: FromClause) -> ColumnElement[bool]:
    """The row refers to some Patient (any at all), or is one."""
    ref = idx_reference.alias()
    refers = exists(
        select(literal(1)).select_from(ref).where(ref.c.resource_pk == row.c.pk, ref.c.target_type == "Patient")
    )
    return or_(row.c.resource_type == "Patient", refers)


def has_token(row: FromClause, param: str, codes: Sequence[str]) -> ColumnElement[bool]:
    """The row carries one of these codes in a token search parameter of its own type."""
    token = idx_token.alias()
    return exists(
        select(literal(1))
        .select_from(token)
        .where(token.c.resource_pk == row.c.pk, token.c.param == param, token.c.code.in_(list(codes)))
    )
