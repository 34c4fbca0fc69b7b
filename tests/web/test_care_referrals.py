"""The referral pages as the demo users would use them (both databases): the GP refers from the record, the district
nurse's team sees it in its work list and acts on it, the team manager allocates, and every step shows to the GP on
the referral and on the record. Bad forms show an error summary with a 4xx status; a stale form, a step the state
does not allow and a forged or missing CSRF token change nothing."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from joinedup.access.gate import AccessGate
from joinedup.care.referrals.service import read_referral
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.web.csrf import CSRF_HEADER

from .conftest import sign_in_as

PATIENT = "pat-1"  # registered at the GP demo user's practice


def _browser(web: TestClient, role: str) -> TestClient:
    web.headers.pop("Authorization", None)
    sign_in_as(web, role)
    return web


def _form(page: str, action: str) -> dict[str, str]:
    """The hidden fields (csrf, version) of one action's form on a referral page."""
    block = page.split(f'data-testid="action-{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', block))


def _refer(web: TestClient, **overrides: str) -> Any:
    data = {"service": "HealthcareService/svc-zrn", "what": "Leg ulcer dressings", "why": "Venous leg ulcer",
            "urgency": "72-hours", "note": "Key safe by the door", "csrf": web.headers[CSRF_HEADER],
            **overrides}  # fmt: skip
    return web.post(f"/record/{PATIENT}/refer", data=data, follow_redirects=False)


def _version(loaded: str, task_id: str) -> int:
    store = FhirStore(make_engine(loaded))
    try:
        return read_referral(AccessGate(store).for_system("test"), task_id).version
    finally:
        store.engine.dispose()


def test_refer_from_the_record_and_follow_every_step(web: TestClient, loaded: str) -> None:
    gp = _browser(web, "gp")
    record = gp.get(f"/record/{PATIENT}")
    assert f'href="/record/{PATIENT}/refer"' in record.text and "No referrals on this record" in record.text
    form = gp.get(f"/record/{PATIENT}/refer")
    assert form.status_code == 200 and "Saltmoor Community Health Services team" in form.text
    sent = _refer(gp)
    assert sent.status_code == 303, sent.text
    task_id = sent.headers["location"].rsplit("/", 1)[1]
    page = gp.get(f"/referrals/{task_id}").text
    assert "Leg ulcer dressings" in page and "Sent by" in page and 'data-testid="action-cancel"' in page
    assert 'data-testid="action-accept"' not in page  # the sender does not accept their own referral
    assert f"/referrals/{task_id}" in gp.get("/referrals/sent").text

    nurse = _browser(web, "district-nurse")
    work = nurse.get("/referrals/received")
    assert work.status_code == 200 and f"/referrals/{task_id}" in work.text and "Unallocated" in work.text
    page = nurse.get(f"/referrals/{task_id}").text
    accepted = nurse.post(f"/referrals/{task_id}/accept", data={**_form(page, "accept"), "text": "Visiting Thursday"},
                          follow_redirects=False)  # fmt: skip
    assert accepted.status_code == 303
    again = nurse.post(f"/referrals/{task_id}/accept", data=_form(page, "accept"), follow_redirects=False)
    assert (
        again.status_code == 409 and "changed since you opened it" in again.text and "There is a problem" in again.text
    )
    assert _version(loaded, task_id) == 2

    manager = _browser(web, "team-manager")
    page = manager.get(f"/referrals/{task_id}").text
    assert 'value="PractitionerRole/role-zrn-1"' in page  # the team's members to allocate to
    allocated = manager.post(f"/referrals/{task_id}/allocate",
                             data={**_form(page, "allocate"), "worker": "PractitionerRole/role-zrn-1"},
                             follow_redirects=False)  # fmt: skip
    assert allocated.status_code == 303

    nurse = _browser(web, "district-nurse")
    page = nurse.get(f"/referrals/{task_id}").text
    contact = nurse.post(f"/referrals/{task_id}/first-contact", data=_form(page, "first-contact"),
                         follow_redirects=False)  # fmt: skip
    assert contact.status_code == 303
    page = nurse.get(f"/referrals/{task_id}").text
    done = nurse.post(f"/referrals/{task_id}/complete", data={**_form(page, "complete"), "text": "Ulcer healed"},
                      follow_redirects=False)  # fmt: skip
    assert done.status_code == 303

    gp = _browser(web, "gp")
    page = gp.get(f"/referrals/{task_id}").text
    for step in ("Sent", "Accepted", "Allocated to a named worker", "First contact made", "Completed"):
        assert f"<strong>{step}</strong>" in page, step
    assert "Visiting Thursday" in page and "Outcome: Ulcer healed" in page
    record = gp.get(f"/record/{PATIENT}").text
    assert f"/referrals/{task_id}" in record and "<strong>Completed</strong>" in record


def test_a_bad_referral_form_shows_its_errors_and_makes_nothing(web: TestClient) -> None:
    gp = _browser(web, "gp")
    bad = _refer(gp, service="HealthcareService/no-such", what="", urgency="whenever")
    assert bad.status_code == 400
    for message in ("There is a problem", "Choose a service from the list", "Enter what you are asking",
                    "Choose how urgent"):  # fmt: skip
        assert message in bad.text
    assert 'href="#service"' in bad.text and 'id="service"' in bad.text
    assert "Referrals I sent" in gp.get("/referrals/sent").text
    assert "/referrals/" not in gp.get("/referrals/sent").text.split("<h1>", 1)[1].split("</main>")[0]


def test_accepting_a_declined_referral_is_refused_on_the_page(web: TestClient, loaded: str) -> None:
    gp = _browser(web, "gp")
    task_id = _refer(gp).headers["location"].rsplit("/", 1)[1]
    nurse = _browser(web, "district-nurse")
    page = nurse.get(f"/referrals/{task_id}").text
    no_reason = nurse.post(f"/referrals/{task_id}/decline", data=_form(page, "decline"), follow_redirects=False)
    assert no_reason.status_code == 400 and 'href="#decline-reason"' in no_reason.text
    declined = nurse.post(f"/referrals/{task_id}/decline", data={**_form(page, "decline"), "reason": "not-eligible",
                          "text": "Not housebound"}, follow_redirects=False)  # fmt: skip
    assert declined.status_code == 303
    version = _version(loaded, task_id)
    csrf = nurse.headers[CSRF_HEADER]
    refused = nurse.post(f"/referrals/{task_id}/accept", data={"csrf": csrf, "version": str(version)},
                         follow_redirects=False)  # fmt: skip
    assert refused.status_code == 409 and "cannot be accepted" in refused.text
    assert _version(loaded, task_id) == version
    gp = _browser(web, "gp")
    page = gp.get(f"/referrals/{task_id}").text
    assert "Does not meet the service" in page and "Not housebound" in page


def test_forged_or_missing_csrf_changes_nothing(web: TestClient, loaded: str) -> None:
    gp = _browser(web, "gp")
    task_id = _refer(gp).headers["location"].rsplit("/", 1)[1]
    nurse = _browser(web, "district-nurse")
    token = nurse.headers.pop(CSRF_HEADER)
    for data in ({"version": "1"}, {"version": "1", "csrf": "forged"}):
        refused = nurse.post(f"/referrals/{task_id}/accept", data=data, follow_redirects=False)
        assert refused.status_code == 403
    refer = nurse.post(f"/record/{PATIENT}/refer", data={"service": "HealthcareService/svc-zrt", "what": "x",
                       "why": "y", "urgency": "routine", "csrf": "forged"}, follow_redirects=False)  # fmt: skip
    assert refer.status_code == 403
    nurse.headers[CSRF_HEADER] = token
    assert _version(loaded, task_id) == 1


def test_who_may_see_and_act(web: TestClient) -> None:
    gp = _browser(web, "gp")
    task_id = _refer(gp).headers["location"].rsplit("/", 1)[1]
    social = _browser(web, "social-worker")  # related to the person, another team: sees it, may not act
    page = social.get(f"/referrals/{task_id}")
    assert page.status_code == 200 and "What you can do now" not in page.text
    csrf = social.headers[CSRF_HEADER]
    refused = social.post(f"/referrals/{task_id}/accept", data={"csrf": csrf, "version": "1"}, follow_redirects=False)
    assert refused.status_code == 403 and "receiving team" in refused.text
    mental_health = _browser(web, "mental-health-practitioner")  # no relationship with the person
    assert mental_health.get(f"/referrals/{task_id}").status_code == 404
    resident = _browser(web, "resident")
    for path in (f"/referrals/{task_id}", "/referrals/sent", "/referrals/received", f"/record/{PATIENT}/refer"):
        assert resident.get(path).status_code == 403, path
