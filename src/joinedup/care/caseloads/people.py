"""One row per person: the person index's Person resources join a person's Patient records (one per source), so a
list that finds two records of one person shows them once.

The Persons are read through the caller's handle (a Person concerns the Patients it links, so the gate shows it to
whoever may see one of them); a record whose Person the caller may not see, or that no Person links yet, stands
alone. The row's record is the first of the person's records the list found; its record page gathers the rest
(`$everything` follows the same links: store/person_links.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from joinedup.access.handle import CallerHandle
from joinedup.fhir.search_request import parse_search

from .model import PersonWork, Resource, WorkItem, id_of

CHUNK = 100  # Patient references per Person search


def person_keys(caller: CallerHandle, patient_ids: Iterable[str]) -> dict[str, str]:
    """Patient id → its person's key ('Person/…' when an active Person links it, else 'Patient/<id>')."""
    wanted = sorted(set(patient_ids))
    keys = {pid: f"Patient/{pid}" for pid in wanted}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        pairs = [("link", ",".join(f"Patient/{p}" for p in chunk)), ("_count", "1000")]
        for person in caller.search(parse_search("Person", pairs)).matches:
            if person.get("active") is False:
                continue  # merged away or emptied: links nobody any more
            for link in person.get("link") or []:
                pid = id_of(link.get("target"), "Patient")
                if pid in keys:
                    keys[pid] = f"Person/{person['id']}"
    return keys


def linked_records(caller: CallerHandle, patient_ids: Sequence[str]) -> dict[str, set[str]]:
    """Patient id → every Patient id its person links (itself included), for the records the caller may see."""
    found: dict[str, set[str]] = {pid: {pid} for pid in patient_ids}
    wanted = sorted(set(patient_ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        pairs = [("link", ",".join(f"Patient/{p}" for p in chunk)), ("_count", "1000")]
        for person in caller.search(parse_search("Person", pairs)).matches:
            if person.get("active") is False:
                continue
            members = {pid for link in person.get("link") or [] if (pid := id_of(link.get("target"), "Patient"))}
            for pid in members & found.keys():
                found[pid] |= members
    return found


def group_by_person(
    caller: CallerHandle,
    items: Sequence[WorkItem],
    patients: dict[str, Resource],
    keys: dict[str, str] | None = None,
) -> list[PersonWork]:
    """The items as one row per person, in the order each person first appears. Items whose Patient the caller
    was not shown (the gate hid it, or it is not identified yet) are left out: the list names people. `keys`:
    person_keys of the items' Patients, when the caller has them already (the home page looks up all its lists'
    people at once)."""
    shown = [i for i in items if i.patient_id and i.patient_id in patients]
    if keys is None or any(str(i.patient_id) not in keys for i in shown):
        keys = person_keys(caller, {str(i.patient_id) for i in shown})  # unless the caller looked them up already
    rows: dict[str, PersonWork] = {}
    for item in shown:
        pid = str(item.patient_id)
        row = rows.get(keys[pid])
        if row is None:
            row = rows[keys[pid]] = PersonWork(patients[pid])
        if all(r.get("id") != pid for r in row.records):
            row.records.append(patients[pid])
        row.items.append(item)
    return list(rows.values())


def patients_included(included: Iterable[Resource]) -> dict[str, Resource]:
    return {str(r["id"]): r for r in included if r.get("resourceType") == "Patient"}
