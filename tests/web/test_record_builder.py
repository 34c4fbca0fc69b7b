"""record_for and its parts, through a real gate on a real store (no HTTP)."""

from __future__ import annotations

from datetime import date

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.store.fhir_store import FhirStore
from joinedup.web.fhir_display import age, long_date
from joinedup.web.record import record_for
from joinedup.web.timeline import TimelineFilter, page_of

from . import place

CTX = AccessContext(user="Practitioner/test", role="gp", organisation=f"Organization/{place.PRACTICE.id}")
OTHER_PRACTICE_CTX = AccessContext(
    user="Practitioner/test2", role="gp", organisation=f"Organization/{place.OTHER_PRACTICE.id}"
)


def test_record_for_takes_a_set_of_linked_patient_ids(store: FhirStore) -> None:
    place.load(store, place.place(people=3, entries=10))
    one = record_for(AccessGate(store).for_caller(CTX), ["pat-1"], today=date(2025, 6, 1))
    both = record_for(AccessGate(store).for_caller(CTX), ["pat-1", "pat-2"], today=date(2025, 6, 1))
    main = place.person(1)
    assert one.banner.name == both.banner.name == f"{main.given} {main.family}"  # the first id is the main record
    assert len(both.timeline) == 2 * len(one.timeline)
    assert one.withheld.shown and both.withheld.shown  # the restricted mental health note, in SQL


def test_timeline_is_newest_first_and_pages(store: FhirStore) -> None:
    place.load(store, place.place(people=1, entries=120))
    record = record_for(AccessGate(store).for_caller(OTHER_PRACTICE_CTX), ["pat-0"])  # pat-0 is registered there
    dates = [e.when for e in record.timeline if e.when]
    assert dates == sorted(dates, reverse=True)
    page = page_of(record.timeline, TimelineFilter(), 3, size=50)
    assert (page.first_number, page.has_next, page.has_previous) == (101, False, True)
    beyond = page_of(record.timeline, TimelineFilter(), 99, size=50)
    assert beyond.page == 3


def test_dates_and_ages_in_british_style() -> None:
    assert long_date("2024-03-05T10:00:00Z") == "5 March 2024"
    assert long_date("2024-03") == "March 2024"
    assert long_date("2024") == "2024"
    assert age("1944-03-27", date(2025, 3, 26)) == 80
    assert age("1944-03-27", date(2025, 3, 27)) == 81
