"""A practice's registered list, one row per person, a page at a time.

Several sources may each hold a record of one person registered with the practice (the practice's own, the
hospital's, the council's), so the list of Patient records repeats a linked person. Each person is shown once: on
the page, and at the place, of their record with the lowest id among those the search finds (the person's
representative), with every record of theirs the page found beside it. A page may so hold fewer rows than its size;
no person is shown on two pages, and nobody is skipped.
"""

from __future__ import annotations

from joinedup.access.handle import CallerHandle
from joinedup.fhir.search_request import parse_search

from .model import PersonWork, Resource, WorkList
from .people import CHUNK, linked_records

LIST_SIZE = 25


def _registered_among(caller: CallerHandle, organisation: str, patient_ids: set[str]) -> set[str]:
    """Which of these Patient records are registered with the practice (and shown to the caller)."""
    found: set[str] = set()
    wanted = sorted(patient_ids)
    for start in range(0, len(wanted), CHUNK):
        pairs = [
            ("_id", ",".join(wanted[start : start + CHUNK])),
            ("general-practitioner", organisation),
            ("_elements", "id"),
            ("_count", "1000"),
        ]
        found |= {str(p["id"]) for p in caller.search(parse_search("Patient", pairs)).matches}
    return found


def registered_list(
    caller: CallerHandle, organisation: str, offset: int = 0, size: int = LIST_SIZE
) -> tuple[WorkList, dict[str, Resource]]:
    """One page of the registered list as one row per person, and the directory (the practices) its rows name."""
    pairs = [
        ("general-practitioner", organisation),
        ("_sort", "family,given"),
        ("_count", str(size)),
        ("_offset", str(offset)),
        ("_include", "Patient:general-practitioner"),
    ]
    page = caller.search(parse_search("Patient", pairs))
    directory = {f"{r['resourceType']}/{r['id']}": r for r in page.included}
    on_page = {str(p["id"]): p for p in page.matches}
    members = linked_records(caller, list(on_page))
    others = set().union(*members.values()) - on_page.keys() if members else set()
    registered = set(on_page) | (_registered_among(caller, organisation, others) if others else set())
    rows: list[PersonWork] = []
    for pid, patient in on_page.items():
        person = members[pid] & registered
        if min(person) != pid:
            continue  # shown at their representative record, on this page or another
        records = [on_page[m] for m in sorted(person) if m in on_page]
        rows.append(PersonWork(patient, records))
    return WorkList(rows, page.has_next), directory
