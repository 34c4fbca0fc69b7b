"""The single point of access's pages as its users meet them: intake with person search, the queue, a decision,
identifying later, the flag on the record page; and the refusals (other roles, a stale form, a forged token)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from joinedup.web.csrf import CSRF_HEADER

from ...web import place
from ...web.conftest import csrf_of, sign_in_as

PERSON = place.person(3)


def take(web: TestClient, **fields: str) -> str:
    """Take a contact through the form; the new contact's task id (from the redirect)."""
    form = {"action": "save", "route": "phone", "came_from": "carer", "urgency": "same-day",
            "what": "Fallen twice this week", "caller_name": "Her son", **fields}  # fmt: skip
    response = web.post("/spa/contacts/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/spa/contacts/([^/]+)", response.headers["location"])
    assert found
    return found.group(1)


def version_on(page: str) -> str:
    found = re.search(r'name="version" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_intake_finds_the_person_then_takes_the_contact(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    assert web.get("/spa/contacts/new").status_code == 200
    searched = web.post("/spa/contacts/new", data={"action": "search", "nhs_number": PERSON.nhs_number,
                                                   "what": "Fallen twice"})  # fmt: skip
    assert searched.status_code == 200
    assert f'value="{PERSON.patient_id}"' in searched.text and "Fallen twice" in searched.text
    task_id = take(web, patient=PERSON.patient_id)
    queue = web.get("/spa")
    assert queue.status_code == 200
    assert f"/spa/contacts/{task_id}" in queue.text and f"{PERSON.given} {PERSON.family}" in queue.text
    page = web.get(f"/spa/contacts/{task_id}")
    assert page.status_code == 200 and "Fallen twice this week" in page.text and "Her son" in page.text


def test_intake_says_what_is_missing(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    response = web.post("/spa/contacts/new", data={"action": "save", "route": "phone", "came_from": "carer",
                                                   "urgency": "soon", "what": ""})  # fmt: skip
    assert response.status_code == 400
    assert "Enter what the contact is about" in response.text and "Choose how urgent it is" in response.text


def test_decide_then_the_same_form_again_is_refused(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    task_id = take(web, patient=PERSON.patient_id)
    page = web.get(f"/spa/contacts/{task_id}").text
    form = {"version": version_on(page), "outcome": "referred-on", "service": "HealthcareService/svc-zrn",
            "what": "District nursing visit today", "note": "Key safe 1234"}  # fmt: skip
    decided = web.post(f"/spa/contacts/{task_id}/decision", data=form, follow_redirects=False)
    assert decided.status_code == 303
    shown = web.get(f"/spa/contacts/{task_id}").text
    assert "Referred on to a service" in shown
    assert f"Referral: District nursing visit today – to {place.COMMUNITY.name} team" in shown
    again = web.post(f"/spa/contacts/{task_id}/decision", data={**form, "outcome": "advice"})
    assert again.status_code == 409
    assert "already been decided: nothing was changed" in again.text
    assert "Referred on to a service" in web.get(f"/spa/contacts/{task_id}").text
    assert f"/spa/contacts/{task_id}" not in web.get("/spa").text  # out of the queue


def test_a_stale_form_changes_nothing(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    task_id = take(web)  # not yet identified
    page = web.get(f"/spa/contacts/{task_id}").text
    stale = version_on(page)
    search = web.post(f"/spa/contacts/{task_id}/identify", data={"version": stale, "action": "search",
                                                                 "nhs_number": PERSON.nhs_number})  # fmt: skip
    assert f'value="{PERSON.patient_id}"' in search.text
    link = {"version": stale, "action": "link", "patient": PERSON.patient_id}
    linked = web.post(f"/spa/contacts/{task_id}/identify", data=link, follow_redirects=False)
    assert linked.status_code == 303
    refused = web.post(f"/spa/contacts/{task_id}/decision", data={"version": stale, "outcome": "advice"})
    assert refused.status_code == 409 and "nothing was changed" in refused.text
    assert "Decided on" not in web.get(f"/spa/contacts/{task_id}").text


def test_a_forged_token_is_refused(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    task_id = take(web, patient=PERSON.patient_id)
    version = version_on(web.get(f"/spa/contacts/{task_id}").text)
    web.headers.pop(CSRF_HEADER)
    forged = web.post(f"/spa/contacts/{task_id}/decision",
                      data={"version": version, "outcome": "advice", "csrf": "forged"})  # fmt: skip
    assert forged.status_code == 403
    web.headers[CSRF_HEADER] = csrf_of(web.get("/spa").text)
    assert "Decided on" not in web.get(f"/spa/contacts/{task_id}").text


def test_other_roles_are_refused(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    task_id = take(web, patient=PERSON.patient_id)
    for role in ("gp", "district-nurse", "social-worker", "ig-manager", "resident"):
        sign_in_as(web, role)
        for path in ("/spa", "/spa/contacts/new", f"/spa/contacts/{task_id}", "/spa/measures"):
            assert web.get(path).status_code == 403, (role, path)
        refused = web.post(f"/spa/contacts/{task_id}/decision", data={"version": "1", "outcome": "advice"})
        assert refused.status_code == 403, role
    sign_in_as(web, "spa-triage")
    assert "Decided on" not in web.get(f"/spa/contacts/{task_id}").text


def test_the_flag_shows_on_the_gps_record_page(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    task_id = take(web, patient=PERSON.patient_id)
    flag = {"what": "Confused at night: call before visiting", "review_day": "4", "review_month": "1",
            "review_year": "2099"}  # fmt: skip
    raised = web.post(f"/spa/contacts/{task_id}/flag", data=flag, follow_redirects=False)
    assert raised.status_code == 303
    sign_in_as(web, "gp")
    record = web.get(f"/record/{PERSON.patient_id}").text
    assert "Vulnerable person" in record and "Confused at night: call before visiting" in record
    assert "Review by 4 January 2099" in record
    assert "Close the flag" not in record  # the GP sees it; the single point of access reviews and closes it
    sign_in_as(web, "spa-triage")
    record = web.get(f"/record/{PERSON.patient_id}").text
    flag_id = re.search(r'action="/spa/flags/([^"]+)"', record)
    assert flag_id
    close = {"version": version_on(record), "action": "close", "patient_id": PERSON.patient_id}
    closed = web.post(f"/spa/flags/{flag_id.group(1)}", data=close, follow_redirects=False)
    assert closed.status_code == 303
    assert 'id="vulnerable-person"' not in web.get(f"/record/{PERSON.patient_id}").text  # (the timeline keeps it)


def test_measures_page(web: TestClient) -> None:
    sign_in_as(web, "spa-triage")
    take(web, patient=PERSON.patient_id)
    sign_in_as(web, "team-manager")
    page = web.get("/spa/measures")
    assert page.status_code == 200
    assert 'role="img"' in page.text and "Contacts by route, per month" in page.text
    assert "Resolved at first contact" in page.text
