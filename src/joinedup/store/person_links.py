"""Which source Patients belong to the same person: the person index's `Person.link`s, read from the search index.

Used by `$everything` (and so the web record) to gather all of a person's sources. The Person resources are written
by `joinedup.identity` (decision 0200); this module only reads the `link` reference rows the indexer keeps.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import idx_reference, resources


def linked_patient_ids(conn: Connection, patient_id: str) -> list[str]:
    """The Patient itself first, then every other Patient linked to an active Person that links it. A merged-away
    Person links only its successor Person, and an inactive one no Patient, so neither gathers anything."""
    holder = idx_reference.alias("holder")
    person = resources.alias("person")
    persons = (
        select(holder.c.resource_pk)
        .join(person, person.c.pk == holder.c.resource_pk)
        .where(
            holder.c.resource_type == "Person",
            holder.c.param == "link",
            holder.c.target_type == "Patient",
            holder.c.target_id == patient_id,
            person.c.deleted.is_(False),
        )
    )
    member = idx_reference.alias("member")
    rows = conn.execute(
        select(member.c.target_id)
        .where(
            member.c.resource_pk.in_(persons),
            member.c.param == "link",
            member.c.target_type == "Patient",
        )
        .distinct()
    ).scalars()
    others = sorted(str(found) for found in rows if found is not None and found != patient_id)
    return [patient_id, *others]
