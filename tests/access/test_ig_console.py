"""The IG console: unusual access (same surname and address; many more records than peers), the audit entries
behind each finding, and a person's subject access request as one FHIR Bundle — both databases."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from joinedup.access.audit.trail import Actor, now_micros
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.ig.subject_access import assemble
from joinedup.access.ig.unusual import fence, many_more_than_peers, same_surname_and_address, unusual_access
from joinedup.fhir.errors import Forbidden, NotFound
from joinedup.store.context import SYSTEM

from ..web import place
from ..web.conftest import sign_in_as
from .conftest import GP, NURSE

IG = AccessContext(user="PractitionerRole/role-ig-1", role="ig-manager", organisation=f"Organization/{place.PLACE.id}")


def _relative_of(gate: AccessGate, index: int) -> AccessContext:
    """A GP at the person's own practice who shares their surname and home address (their staff record says so)."""
    who = place.person(index)
    patient = place.patient(who)
    gate._store.update(SYSTEM, "Practitioner", "prac-relative", {
        "resourceType": "Practitioner", "id": "prac-relative",
        "name": [{"family": who.family.upper(), "given": ["Alex"]}],
        "address": [{"use": "home", "line": [patient["address"][0]["line"][0].lower()],
                     "postalCode": patient["address"][0]["postalCode"].replace(" ", "")}],
    })  # fmt: skip
    gate._store.update(SYSTEM, "PractitionerRole", "role-relative", {
        "resourceType": "PractitionerRole", "id": "role-relative", "active": True,
        "practitioner": {"reference": "Practitioner/prac-relative"},
        "organization": {"reference": f"Organization/{who.practice.id}"},
    })  # fmt: skip
    return AccessContext(
        user="PractitionerRole/role-relative", role="gp", organisation=f"Organization/{who.practice.id}"
    )


def test_a_user_opening_a_record_at_their_own_surname_and_address_is_found(gate: AccessGate) -> None:
    relative = _relative_of(gate, 1)
    start = gate.audit.entries()[-1].seq if gate.audit.entries() else 0
    gate.read(relative, "Patient", "pat-1")  # their relative: same surname, same address
    gate.read(relative, "Patient", "pat-2")  # someone else on the practice list
    gate.read(GP, "Patient", "pat-1")  # a colleague without the surname
    gate.everything(relative, "pat-1", None, None, 100, 0)
    entries = gate.audit.entries(since_seq=start)
    expected = [e.seq for e in entries if e.user == relative.user and "pat-1" in e.patients]
    findings = same_surname_and_address(gate.for_system("unusual-access"), entries)
    assert [(f.user, f.patients, f.seqs) for f in findings] == [(relative.user, ("pat-1",), tuple(expected))]
    assert len(expected) == 2


def test_a_practitioner_without_an_address_or_a_resident_is_never_a_surname_finding(gate: AccessGate) -> None:
    gate.read(GP, "Patient", "pat-1")  # the place's staff records carry no home address
    gate.read(AccessContext(user="Patient/pat-1", role="resident"), "Patient", "pat-1")
    assert same_surname_and_address(gate.for_system("unusual-access"), gate.audit.entries()) == []


def _opens(gate: AccessGate, user: str, role: str, people: int) -> None:
    for number in range(people):
        gate.audit.record(Actor(user, role, "Organization/org-zrn"), "read", "success",
                          [f"Patient/p-{number}"], [f"p-{number}"])  # fmt: skip


def test_a_user_opening_many_more_records_than_their_peers_is_found(gate: AccessGate) -> None:
    start = gate.audit.entries()[-1].seq if gate.audit.entries() else 0
    for number, people in enumerate((2, 2, 3, 3)):
        _opens(gate, f"PractitionerRole/nurse-{number}", "nurse", people)
    _opens(gate, "PractitionerRole/nurse-busy", "nurse", 8)
    for number, people in enumerate((1, 40)):  # two social workers: too few peers to compare
        _opens(gate, f"PractitionerRole/sw-{number}", "social-worker", people)
    entries = gate.audit.entries(since_seq=start)
    assert fence([2, 2, 3, 3, 8]) == (2.0, 3.0, 6.0)  # Q1, Q3, Q3 + 3 x IQR
    findings = many_more_than_peers(entries)
    assert [(f.user, f.figures["count"], f.figures["fence"]) for f in findings] == [
        ("PractitionerRole/nurse-busy", 8, 6.0)
    ]
    busy = {e.seq for e in entries if e.user == "PractitionerRole/nurse-busy"}
    assert set(findings[0].seqs) == busy and len(busy) == 8


def test_subject_access_bundle_holds_the_whole_record_and_its_access_log(gate: AccessGate) -> None:
    gate.read(NURSE, "Patient", "pat-1")
    gate.everything(GP, "pat-1", None, None, 100, 0)
    logged = len(gate.audit.about_patient("pat-1", 100_000))
    record = gate._store.everything(SYSTEM, "pat-1", None, None, 1000, 0).matches
    bundle = assemble(gate, IG, "pat-1")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    held = {f"{r['resourceType']}/{r['id']}" for r in resources if r["resourceType"] != "AuditEvent"}
    assert held == {f"{r['resourceType']}/{r['id']}" for r in record}
    assert "Observation/pat-1-mh-note" in held  # restricted from professionals, but it is the person's own
    events = [r for r in resources if r["resourceType"] == "AuditEvent"]
    assert len(events) == logged
    assert {"PractitionerRole/role-zrn-1", "PractitionerRole/role-p84001-1"} <= {
        e["agent"][0]["who"].get("reference") for e in events
    }
    last = gate.audit.about_patient("pat-1", 1)[0]
    assert (last.action, last.outcome, last.user, last.detail["resources"]) == ("subject-access", "success", IG.user,
                                                                               len(record))  # fmt: skip


def test_subject_access_is_refused_to_other_roles_and_unknown_people_are_not_found(gate: AccessGate) -> None:
    with pytest.raises(Forbidden):
        assemble(gate, NURSE, "pat-1")
    refused = gate.audit.about_patient("pat-1", 1)[0]
    assert (refused.action, refused.outcome, refused.user) == ("subject-access", "failure", NURSE.user)
    with pytest.raises(NotFound):
        assemble(gate, IG, "nobody")


def test_unusual_access_reads_both_rules(gate: AccessGate) -> None:
    relative = _relative_of(gate, 2)
    gate.read(relative, "Patient", "pat-2")
    rules = {f.rule for f in unusual_access(gate.for_system("unusual-access"), gate.audit.between(0, now_micros() + 1))}
    assert rules == {"same-surname-and-address"}


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def test_ig_console_pages(web: TestClient) -> None:
    gate: AccessGate = web.app.state.services.gate  # type: ignore[attr-defined]
    relative = _relative_of(gate, 3)
    gate.read(relative, "Patient", "pat-3")
    sign_in_as(web, "ig-manager")
    page = web.get("/ig/unusual-access?days=7")
    assert page.status_code == 200
    assert "role-relative" in page.text
    evidence = re.search(r'href="(/ig/audit\?seq=\d+[^"]*)"', page.text)
    assert evidence, "each finding links to its audit entries"
    entries = web.get(evidence.group(1).replace("&amp;", "&"))
    assert entries.status_code == 200 and "Patient/pat-3" in entries.text and "role-relative" in entries.text
    form = web.get("/ig/subject-access")
    assert form.status_code == 200
    download = web.post("/ig/subject-access", data={"patient_id": "pat-3", "csrf": _csrf(form.text)})
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="subject-access-pat-3.json"'
    bundle = download.json()
    assert any(e["resource"]["resourceType"] == "AuditEvent" for e in bundle["entry"])
    assert any(e["resource"].get("id") == "pat-3" for e in bundle["entry"])
    missing = web.post("/ig/subject-access", data={"patient_id": "nobody", "csrf": _csrf(form.text)})
    assert missing.status_code == 404 and "There is no record with this identifier" in missing.text
    forged = web.post("/ig/subject-access", data={"patient_id": "pat-3", "csrf": "forged"})
    assert forged.status_code == 403


def test_ig_console_pages_are_for_ig_managers(web: TestClient) -> None:
    sign_in_as(web, "gp")
    for path in ("/ig/unusual-access", "/ig/audit?seq=1", "/ig/subject-access"):
        assert web.get(path).status_code == 403, path
