"""The Visibility conditions the gate hands the store: one SQL condition per query, built from the rules.

For direct care (`CareVisibility`) a personal resource is returned only when all three hold:
- relationship: it concerns a person the user has a legitimate relationship with (relationships.py) or has opened
  by break-glass within its time limit;
- consent: the person has not objected to sharing, or the resource was written by the user's own organisation
  (break-glass overrides an objection: an emergency is what it is for);
- sensitivity: it carries no sensitive security label the user's role is not granted, or it was written by the
  user's own organisation (the team that wrote it).
Directory resources (organisations, staff, places) are always returned. Everything is one condition inside the
query, so counts, `_total`, includes, chains, history, `$everything` and exports all agree with what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.types import BigInteger

from joinedup.fhir.source import ODS_SYSTEM, SOURCE_TAG_SYSTEM
from joinedup.store.governance_schema import break_glass
from joinedup.store.visibility_sql import (
    any_of,
    carries_label,
    carries_tag,
    concerns_patients,
    has_token,
    patients_of,
    refers_to_a_patient,
    token_codes_of,
    with_token,
)

from .audit.trail import now_micros
from .consent_codes import CONSENT_CATEGORY, OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE
from .labels import withheld_labels
from .personal_types import PERSONAL_TYPES
from .relationships import Principal, related_patients


def objectors(category: str) -> Select[tuple[str]]:
    """Patients with an active Consent of this objection category."""
    return patients_of(
        "Consent",
        with_token("Consent", "status", ("active",)),
        with_token("Consent", "category", (category,), CONSENT_CATEGORY),
    )


def _now() -> BindParameter[int]:
    """The time of each execution, not of building: the conditions below are built once and reused (see
    `_patient_sets`), and a break-glass grant must lapse on time however long the cached condition lives."""
    return bindparam("visibility_now", type_=BigInteger(), callable_=now_micros)


def break_glass_patients(user: str) -> Select[tuple[str]]:
    return select(break_glass.c.patient_id).where(break_glass.c.user_ref == user, break_glass.c.expires > _now())


PatientSets = tuple[Select[tuple[str]], Select[tuple[str]], Select[tuple[str]] | None]


@lru_cache(maxsize=512)
def _patient_sets(principal: Principal, user: str) -> PatientSets:
    """The people the user may see (linked), those of them whose record may be shared with them (shareable),
    and their organisation's ODS codes — each a CTE, hoisted to the top of every statement that uses it: the
    database works each set out once, and the nesting stays shallow enough for SQLite's parser when a chain or
    `_has` puts the condition inside another sub-query.

    Built once per user and kept: building these expression trees took SQLAlchemy 30–40 ms, several times per
    page, which was most of a record page's render time. They hold no data and no time (the sets are worked out
    by the database at each execution, `_now()` is bound at execution), so reuse cannot serve a stale answer."""
    tag = f"{abs(hash((user, principal))) % 10**8}"
    related = related_patients(principal)
    glass = break_glass_patients(user)
    linked_cte = (
        (glass if related is None else any_of(related, glass)).cte(f"vis_linked_{tag}").prefix_with("MATERIALIZED")
    )
    if related is None:
        shareable_cte = glass.cte(f"vis_shareable_{tag}").prefix_with("MATERIALIZED")
    else:
        related_only = select(linked_cte.c[0]).except_(glass, objectors(OBJECTS_TO_SHARING))
        shareable_cte = any_of(related_only, glass).cte(f"vis_shareable_{tag}").prefix_with("MATERIALIZED")
    org = principal.organisation_id
    codes = None
    if org is not None:
        codes_cte = (
            token_codes_of("Organization", org, "identifier", ODS_SYSTEM)
            .cte(f"vis_org_{tag}")
            .prefix_with("MATERIALIZED")
        )
        codes = select(codes_cte.c[0])
    return select(linked_cte.c[0]), select(shareable_cte.c[0]), codes


def is_directory(row: FromClause) -> ColumnElement[bool]:
    """Directory data: not a personal type, or a Group of staff that names no person (a multidisciplinary group's
    membership, decision 0500), which every signed-in role may read like any team in the directory."""
    staff_group = and_(
        row.c.resource_type == "Group",
        has_token(row, "type", ("practitioner",)),
        not_(refers_to_a_patient(row)),
    )
    return or_(row.c.resource_type.not_in(sorted(PERSONAL_TYPES)), staff_group)


def type_allowed(row: FromClause, types: frozenset[str] | None) -> ColumnElement[bool] | None:
    """SMART scopes: only these resource types (None: any)."""
    return None if types is None else row.c.resource_type.in_(sorted(types))


def _with_scope(condition: ColumnElement[bool], row: FromClause, types: frozenset[str] | None) -> ColumnElement[bool]:
    scoped = type_allowed(row, types)
    return condition if scoped is None else and_(scoped, condition)


@dataclass(frozen=True)
class CareVisibility:
    """Direct care: relationship (or break-glass), consent and sensitivity, all in the SQL."""

    principal: Principal
    user: str
    sensitive_granted: frozenset[str]
    readable_types: frozenset[str] | None = None
    enforce_withholding: bool = True  # False only to ask "is anything withheld?" (gate.withholds)

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        row = resource_row
        linked, shareable, codes = _patient_sets(self.principal, self.user)
        own = false() if codes is None else carries_tag(row, SOURCE_TAG_SYSTEM, codes)
        labels = withheld_labels(self.sensitive_granted)
        rules = [concerns_patients(row, linked)]
        if self.enforce_withholding:
            rules.append(or_(own, concerns_patients(row, shareable)))
            if labels:
                rules.append(or_(own, not_(carries_label(row, labels))))
        personal = and_(*rules)
        # A working record about nobody identified yet (a contact the single point of access has not matched to a
        # person) is its writer's own: their organisation sees it, nobody else (decision 0500).
        unidentified_own = and_(own, not_(refers_to_a_patient(row)))
        return _with_scope(or_(is_directory(row), personal, unidentified_own), row, self.readable_types)


@dataclass(frozen=True)
class OwnRecordVisibility:
    """A resident: their own record, less any category their role is not granted (psychotherapy notes)."""

    patient_id: str
    sensitive_granted: frozenset[str]
    readable_types: frozenset[str] | None = None
    enforce_withholding: bool = True

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        row = resource_row
        labels = withheld_labels(self.sensitive_granted)
        own = concerns_patients(row, select(literal(self.patient_id)))
        personal = and_(own, not_(carries_label(row, labels))) if labels and self.enforce_withholding else own
        return _with_scope(or_(is_directory(row), personal), row, self.readable_types)


@dataclass(frozen=True)
class SecondaryUseVisibility:
    """Analytics beyond direct care: everyone who has not opted out, nothing sensitive (pseudonymised downstream)."""

    readable_types: frozenset[str] | None = None

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        row = resource_row
        opted_out = any_of(objectors(OPTS_OUT_OF_SECONDARY_USE), objectors(OBJECTS_TO_SHARING))
        personal = and_(not_(concerns_patients(row, opted_out)), not_(carries_label(row, withheld_labels(frozenset()))))
        return _with_scope(or_(is_directory(row), personal), row, self.readable_types)


@dataclass(frozen=True)
class DirectoryOnly:
    """Roles with no access to personal records (IG manager, administrator): directory data only."""

    readable_types: frozenset[str] | None = None

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        return _with_scope(is_directory(resource_row), resource_row, self.readable_types)


@dataclass(frozen=True)
class Unrestricted:
    """System access (loading, integration clients with system scopes): any resource its scopes allow."""

    readable_types: frozenset[str] | None = None

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        return type_allowed(resource_row, self.readable_types)


@dataclass(frozen=True)
class Withheld:
    """What the relationship alone would show but consent or sensitivity keeps back: the rows `related` allows
    and `shown` does not (only ever asked as a yes/no, for the withheld notice: decision 0302)."""

    shown: CareVisibility | OwnRecordVisibility
    related: CareVisibility | OwnRecordVisibility

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        related = self.related.condition(resource_row)
        shown = self.shown.condition(resource_row)
        # coalesce: an IN over a set holding a NULL is NULL, not false, and NOT NULL would hide a withheld row
        held_back = false() if shown is None else not_(func.coalesce(shown, false()))
        return held_back if related is None else and_(related, held_back)
