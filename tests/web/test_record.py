"""The integrated record page: banner, summary, withheld notice, one timeline filterable and paged."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, FromClause

from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.fhir.nhs_number import format_3_3_4

from . import place
from .conftest import sign_in_as

WHO = place.person(1)


def _entries(page: str) -> int:
    return len(re.findall(r'<span class="ju-when">', page))


def test_banner(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get(f"/record/{WHO.patient_id}").text
    assert f"{WHO.given} {WHO.family}" in page
    assert format_3_3_4(WHO.nhs_number) in page
    assert "years)" in page
    assert "2 Mill Lane, Saltmoor" in page
    assert WHO.practice.name in page
    assert "Lives alone: key safe at front door" in page
    assert "Key worker" in page and place.COUNCIL.name in page


def test_summary_across_organisations(web: TestClient) -> None:
    sign_in_as(web, "district-nurse")
    page = web.get(f"/record/{WHO.patient_id}").text
    for text in (
        "Hypertension",
        "Atenolol 50mg tablets",
        "Penicillin allergy",
        "Staying well at home",
        "Referral to falls service",
        "Review care package after hospital discharge",
        "District nurse",
        "Social worker",
    ):
        assert text in page, text


def test_restricted_entries_are_withheld_with_a_notice(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get(f"/record/{WHO.patient_id}").text
    assert "Some information is withheld" in page
    assert "entry is not shown" not in page and "entries are not shown" not in page  # no count leaks
    assert "Mental health risk assessment" not in page
    assert "Withheld detail" not in page


def test_timeline_names_each_source_and_filters_by_organisation(web: TestClient) -> None:
    sign_in_as(web, "gp")
    everything = web.get(f"/record/{WHO.patient_id}").text
    for org in (place.ACUTE, place.COMMUNITY, place.COUNCIL, place.VOLUNTARY):
        assert f"From {org.name}" in everything
    acute = web.get(f"/record/{WHO.patient_id}", params={"organisation": place.ACUTE.code}).text
    timeline = acute.split('id="timeline-results"')[1]
    assert f"From {place.ACUTE.name}" in timeline
    assert f"From {place.COUNCIL.name}" not in timeline
    assert "matching the filters" in timeline


def test_timeline_filters_by_kind_and_date(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get(f"/record/{WHO.patient_id}", params={"kind": "Problem"}).text
    timeline = page.split('id="timeline-results"')[1]
    assert _entries(timeline) == 3
    dated = web.get(f"/record/{WHO.patient_id}", params={"date_from": "2025-01-01", "date_to": "2025-12-31"}).text
    timeline = dated.split('id="timeline-results"')[1]
    assert "2025" in timeline
    assert not re.search(r'class="ju-when">[^<]*20(1\d|2[0-4])<', timeline)


def test_htmx_asks_for_the_timeline_alone(web: TestClient) -> None:
    sign_in_as(web, "gp")
    response = web.get(f"/record/{WHO.patient_id}", params={"kind": "Contact"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="timeline-results">')
    assert "<html" not in response.text


def test_a_long_record_is_paged(web: TestClient, loaded: str) -> None:
    from joinedup.store.engine import make_engine
    from joinedup.store.fhir_store import FhirStore

    store = FhirStore(make_engine(loaded))
    big = place.person(41)  # registered with the demo GP's practice: a relationship
    place.load(store, place.person_resources(big, 1200))
    store.engine.dispose()
    sign_in_as(web, "gp")
    first = web.get(f"/record/{big.patient_id}").text
    assert _entries(first) == 50
    assert "of 1" in first and "Older entries" in first
    second = web.get(f"/record/{big.patient_id}", params={"page": 2}, headers={"HX-Request": "true"}).text
    assert _entries(second) == 50
    assert "Entries 51" not in second and 'start="51"' in second


def test_unknown_record_is_a_404_page(web: TestClient) -> None:
    sign_in_as(web, "gp")
    response = web.get("/record/no-such-person")
    assert response.status_code == 404
    # the same page as for a record they have no relationship with: existence does not leak (decision 0301)
    assert "This record is not available to you" in response.text
    unrelated = web.get("/record/pat-0")  # exists, registered with the other practice
    assert unrelated.status_code == 404
    assert unrelated.text.replace("pat-0", "X") == response.text.replace("no-such-person", "X")


def test_bad_filter_date_is_reported(web: TestClient) -> None:
    sign_in_as(web, "gp")
    page = web.get(f"/record/{WHO.patient_id}", params={"date_from": "2024-13-45"}).text
    assert "Enter a real date" in page


def test_static_assets_are_served_from_node_modules(web: TestClient) -> None:
    assert web.get("/static/nhsuk/nhsuk-frontend.min.css").status_code == 200
    assert web.get("/static/htmx/htmx.min.js").status_code == 200
    assert web.get("/assets/images/favicon.svg").status_code == 200


class _HideObservations:
    """A policy standing in for governance: the gate keeps every Observation back, in the SQL."""

    def visibility(self, ctx: AccessContext) -> _NotObservations:
        return _NotObservations()

    def may_write(self, ctx: AccessContext, resource_type: str) -> bool:
        return False


class _NotObservations:
    def condition(self, resource_row: FromClause) -> ColumnElement[bool]:
        return resource_row.c.resource_type != "Observation"


def test_the_page_reads_only_through_the_gate(web: TestClient) -> None:
    sign_in_as(web, "gp")
    assert "Systolic blood pressure" in web.get(f"/record/{WHO.patient_id}").text
    gate: AccessGate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate.policy = _HideObservations()
    page = web.get(f"/record/{WHO.patient_id}").text
    assert "Systolic blood pressure" not in page
    assert "Observation" not in page.split('id="filter-kind"')[1].split("</select>")[0]
