"""Secondary use sees pseudonymised data only (issue 5): the pseudonymiser itself, then an analyst's token through
the FHIR API — searches, history, includes and bulk export pseudonymised, opt-outs honoured, questions that name
a person refused — on both databases."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from joinedup.access.consent_codes import OPTS_OUT_OF_SECONDARY_USE, objection
from joinedup.access.pseudonymise import PSEUDONYMISED_LABEL, Pseudonymiser, load_key
from joinedup.store.context import SYSTEM

from ..web import place

KEY = b"a pseudonymisation key for tests only"
SECRET = "a long client secret for tests"


def _patient() -> dict[str, Any]:
    return place.patient(place.person(5))


def test_a_patient_keeps_what_analysis_needs_and_loses_who_they_are() -> None:
    original = _patient() | {
        "telecom": [{"system": "phone", "value": "0161 496 0000"}],
        "text": {"status": "generated", "div": "<div>Tariq Pritchard</div>"},
        "contact": [{"name": {"family": "Pritchard"}}],
        "contained": [{"resourceType": "RelatedPerson", "id": "carer", "name": [{"family": "Mensah"}],
                       "patient": {"reference": "Patient/pat-5", "display": "Tariq"}}],
    }  # fmt: skip
    shown = Pseudonymiser(KEY).resource(original)
    text = orjson.dumps(shown).decode()
    for clear in ("pat-5", "L00005", original["identifier"][0]["value"], "Mill Lane", "0161", "Pritchard", "Mensah",
                  original["name"][0]["given"][0], original["birthDate"], "Tariq"):  # fmt: skip
        assert clear not in text, clear
    assert shown["id"] == Pseudonymiser(KEY).pseudonym("Patient", "pat-5") and len(shown["id"]) == 32
    assert shown["birthDate"] == original["birthDate"][:4] and shown["gender"] == original["gender"]
    assert shown["address"] == [{"use": "home", "postalCode": original["address"][0]["postalCode"].split()[0]}]
    assert [i["system"] for i in shown["identifier"]] == [i["system"] for i in original["identifier"]]
    assert shown["generalPractitioner"] == original["generalPractitioner"]  # organisations are not people
    assert shown["contained"][0]["id"] == "carer" and "name" not in shown["contained"][0]
    assert PSEUDONYMISED_LABEL in shown["meta"]["security"]


def test_pseudonyms_link_a_persons_records_under_one_key_only() -> None:
    one, other = Pseudonymiser(KEY), Pseudonymiser(b"another key of sufficient length")
    observation = {"resourceType": "Observation", "id": "obs-1", "status": "final", "code": {"text": "BP"},
                   "subject": {"reference": "Patient/pat-5", "display": "Tariq Pritchard"},
                   "performer": [{"reference": "Organization/org-1"}],
                   "note": [{"text": "lives with Eileen"}]}  # fmt: skip
    shown = one.resource(observation)
    assert shown["subject"] == {"reference": f"Patient/{one.resource(_patient())['id']}"}
    assert shown["performer"] == [{"reference": "Organization/org-1"}] and "note" not in shown
    assert other.resource(observation)["subject"] != shown["subject"]
    directory = {"resourceType": "Organization", "id": "org-1", "name": "Riverside Surgery"}
    assert one.resource(directory) == directory


def test_the_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "pseudonym.key"
    first = load_key("", key_file)
    assert len(first) >= 32 and load_key("", key_file) == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key("configured key", key_file) == b"configured key"


def _analyst(web: TestClient) -> dict[str, str]:
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate.tokens.register_client("insight", SECRET, "insight", "analyst", None, "user/*.rs")
    issued = web.post("/auth/token", data={"grant_type": "client_credentials", "scope": "user/*.rs"},
                      auth=("insight", SECRET))  # fmt: skip
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def _clear_identifiers(people: range) -> list[str]:
    found: list[str] = []
    for index in people:
        who = place.person(index)
        found += [who.patient_id + '"', who.nhs_number, f"L{index:05d}", who.family, who.birth.isoformat()]
    return found


def test_an_analyst_searches_pseudonymised_records_and_opt_outs_are_left_out(web: TestClient) -> None:
    bearer = _analyst(web)
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate._store.update(SYSTEM, "Consent", "optout-3", objection("pat-3", OPTS_OUT_OF_SECONDARY_USE, "optout-3"))
    answer = web.get("/fhir/Encounter?_count=1000&_include=Encounter:subject&_total=accurate", headers=bearer)
    assert answer.status_code == 200, answer.text
    body = answer.text
    assert not [clear for clear in _clear_identifiers(range(12)) if clear in body]
    patients = {e["resource"]["id"] for e in answer.json()["entry"] if e["resource"]["resourceType"] == "Patient"}
    assert patients == {gate.pseudonymiser.resource_id("Patient", f"pat-{i}") for i in range(12) if i != 3}
    subjects = {e["resource"]["subject"]["reference"] for e in answer.json()["entry"]
                if e["resource"]["resourceType"] == "Encounter"}  # fmt: skip
    assert subjects == {f"Patient/{p}" for p in patients}  # a person's encounters join to them by pseudonym
    search = gate.audit.entries(actions=["search"])[-1]
    assert search.user == "Device/insight" and "pat-5" in search.patients  # the audit keeps who was really seen
    coded = web.get("/fhir/Condition?_count=5&_total=accurate", headers=bearer).json()
    assert coded["total"] > 0 and all(PSEUDONYMISED_LABEL in e["resource"]["meta"]["security"] for e in coded["entry"])


def test_questions_that_name_a_person_are_refused(web: TestClient) -> None:
    bearer = _analyst(web)
    nhs_number = place.person(5).nhs_number
    named = [
        "/fhir/Patient/pat-5",
        "/fhir/Patient/pat-5/_history/1",
        "/fhir/Patient/pat-5/_history",
        "/fhir/Patient/pat-5/$everything",
        "/fhir/Patient/pat-5/Condition",
        f"/fhir/Patient?identifier={nhs_number}",
        "/fhir/Patient?family=Pritchard",
        "/fhir/Patient?birthdate=1965-06-06",
        "/fhir/Patient?_id=pat-5",
        "/fhir/Condition?subject=Patient/pat-5",
        "/fhir/Condition?patient=pat-5",
        f"/fhir/Condition?subject:Patient.identifier={nhs_number}",
        f"/fhir/Condition?subject:identifier={nhs_number}",
        "/fhir/Encounter?_sort=patient.name",
        "/fhir/Patient?_has:Condition:patient:_id=x",
    ]
    for url in named:
        answer = web.get(url, headers=bearer)
        assert answer.status_code in {400, 403}, (url, answer.status_code)
        assert answer.json()["resourceType"] == "OperationOutcome"
        if answer.status_code == 403:
            assert "Secondary use sees pseudonymised data" in answer.text, url
    missing = web.get("/fhir/Patient/nobody-at-all", headers=bearer)
    assert missing.status_code == 403  # the same answer whether or not the person exists
    clinical = web.get("/fhir/Condition?clinical-status=active&_count=1", headers=bearer)
    assert clinical.status_code == 200
    directory = web.get(f"/fhir/Organization/{place.PRACTICE.id}", headers=bearer)
    assert directory.status_code == 200 and directory.json()["name"] == place.PRACTICE.name


def test_type_history_is_pseudonymised(web: TestClient) -> None:
    bearer = _analyst(web)
    history = web.get("/fhir/Patient/_history?_count=100", headers=bearer)
    assert history.status_code == 200, history.text
    assert not [clear for clear in _clear_identifiers(range(12)) if clear in history.text]
    assert len(history.json()["entry"]) == 12


def test_an_analysts_bulk_export_is_pseudonymised(web: TestClient) -> None:
    bearer = _analyst(web)
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate._store.update(SYSTEM, "Consent", "optout-3", objection("pat-3", OPTS_OUT_OF_SECONDARY_USE, "optout-3"))
    kick_off = web.get("/fhir/$export?_type=Patient,Observation", headers={**bearer, "Prefer": "respond-async"})
    assert kick_off.status_code == 202, kick_off.text
    status_url = kick_off.headers["content-location"].replace("http://127.0.0.1:8000", "")
    for _ in range(200):
        status = web.get(status_url, headers=bearer)
        if status.status_code == 200:
            break
        time.sleep(0.05)
    assert status.status_code == 200, status.text
    lines: list[dict[str, Any]] = []
    for output in status.json()["output"]:
        got = web.get(output["url"].replace("http://127.0.0.1:8000", ""), headers=bearer)
        assert got.status_code == 200
        assert not [clear for clear in _clear_identifiers(range(12)) if clear in got.text]
        lines += [orjson.loads(line) for line in got.text.splitlines() if line]
    patients = {r["id"] for r in lines if r["resourceType"] == "Patient"}
    assert patients == {gate.pseudonymiser.resource_id("Patient", f"pat-{i}") for i in range(12) if i != 3}
    assert all(PSEUDONYMISED_LABEL in r["meta"]["security"] for r in lines)
