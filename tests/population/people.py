"""Hand-built people whose scores are known by hand (the golden cases)."""

from __future__ import annotations

from typing import Any

from joinedup.access.consent_codes import OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE, objection

SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10"
GP = "https://joinedup.example/source/gp"
ACUTE = "https://joinedup.example/source/acute"
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def patient(pid: str, nhs: str | None, birth: str, source: str = GP, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"source": source},
        "gender": "female",
        "birthDate": birth,
        "address": [{"use": "home", "postalCode": "ZS1 2AB"}],
        "generalPractitioner": [{"reference": "Organization/place-org-z81001"}],
    }
    if nhs:
        resource["identifier"] = [{"system": NHS, "value": nhs}]
    resource.update(extra)
    return resource


def condition(cid: str, pid: str, system: str, code: str, onset: str, source: str = GP) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "meta": {"source": source},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": onset,
    }


def observation(oid: str, pid: str, code: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "meta": {"source": GP},
        "code": {"coding": [{"system": SCT, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
    }


def admission(eid: str, pid: str, start: str, end: str, emergency: bool = True) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "meta": {"source": ACUTE},
        "class": {"code": "IMP"},
        "subject": {"reference": f"Patient/{pid}"},
        "priority": {"coding": [{"code": "EM" if emergency else "EL"}]},
        "period": {"start": start, "end": end},
    }


def medication(mid: str, pid: str, code: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "active",
        "intent": "order",
        "meta": {"source": GP},
        "medicationCodeableConcept": {"coding": [{"code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": when,
    }


# Valid test-range NHS numbers (Modulo 11).
ANN, BOB, CAROL, DAN = "9434765919", "9434765870", "9999999999", "9000000009"
OLIVE, PERCY = "9434765900", "9434765927"


def place() -> list[dict[str, Any]]:
    """Ann (84): 6 eFI deficits (mild), 3 LTCs, two emergency admissions -> HFRS and Charlson known.
    Bob (70, fit, objected), Carol (90, died), Dan (40, no records)."""
    people = [
        patient("gp-ann", ANN, "1940-06-01"),
        patient("acute-ann", ANN, "1940-06-01", ACUTE),  # the same person in another source
        patient("gp-bob", BOB, "1954-03-01"),
        patient("gp-carol", CAROL, "1934-01-01", deceasedDateTime="2024-06-01"),
        patient("gp-dan", DAN, "1984-01-01"),
    ]
    ann = [
        condition("c1", "gp-ann", SCT, "59621000", "2015-01-01"),  # hypertension (LTC, deficit)
        condition("c2", "gp-ann", SCT, "44054006", "2016-01-01"),  # diabetes (LTC, deficit)
        condition("c3", "gp-ann", SCT, "84114007", "2020-01-01"),  # heart failure (LTC, deficit)
        condition("c4", "gp-ann", SCT, "397540003", "2020-01-01"),  # visual impairment (deficit)
        observation("o1", "gp-ann", "161898004", "2023-05-01"),  # falls (deficit)
        observation("o2", "gp-ann", "161898004", "2025-05-01"),  # a fall after the index date: not counted
        condition("a1", "acute-ann", ICD, "I50.9", "2023-03-01", ACUTE),  # HFRS I50 0.0? Charlson CHF 1
        condition("a2", "acute-ann", ICD, "W19", "2023-03-01", ACUTE),  # HFRS W19 3.2
        condition("a3", "acute-ann", ICD, "F05.9", "2024-02-01", ACUTE),  # HFRS F05 3.2
        condition("a4", "acute-ann", ICD, "E11.9", "2021-01-01", ACUTE),  # Charlson diabetes 1
        condition("a5", "acute-ann", ICD, "C78.0", "2024-02-01", ACUTE),  # Charlson metastatic 6
        admission("e1", "acute-ann", "2023-03-01", "2023-03-08"),
        admission("e2", "acute-ann", "2024-02-01", "2024-02-04"),
        *[medication(f"m{i}", "gp-ann", f"drug{i}", "2024-10-01") for i in range(5)],  # polypharmacy
    ]
    bob = [
        {
            "resourceType": "Consent",
            "id": "k1",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "category": [{"coding": [{"code": "59284-0"}]}],
            "patient": {"reference": "Patient/gp-bob"},
            "provision": {"type": "deny"},
        },
    ]
    return people + ann + bob


def objectors() -> list[dict[str, Any]]:
    """Olive opted out of secondary use on her GP record; her hospital record (same NHS number) says nothing.
    Percy objected to sharing. Both are frail adults with emergency admissions: counted, they would be listed."""
    made: list[dict[str, Any]] = [
        patient("gp-olive", OLIVE, "1941-02-01"),
        patient("acute-olive", OLIVE, "1941-02-01", ACUTE),
        patient("gp-percy", PERCY, "1944-07-01"),
        {**objection("gp-olive", OPTS_OUT_OF_SECONDARY_USE, "olive-opt-out"), "meta": {"source": ACUTE}},
        {**objection("gp-percy", OBJECTS_TO_SHARING, "percy-objection"), "meta": {"source": GP}},
    ]
    for who, record in (("olive", "acute-olive"), ("percy", "gp-percy")):
        made += [
            condition(f"{who}-c1", f"gp-{who}", SCT, "84114007", "2019-01-01"),  # heart failure
            condition(f"{who}-c2", f"gp-{who}", SCT, "44054006", "2018-01-01"),  # diabetes
            condition(f"{who}-a1", record, ICD, "W19", "2024-03-01", ACUTE),
            observation(f"{who}-o1", f"gp-{who}", "161898004", "2024-01-01"),  # a fall
            admission(f"{who}-e1", record, "2024-03-01", "2024-03-09"),
            admission(f"{who}-e2", record, "2023-09-01", "2023-09-04"),
            *[medication(f"{who}-m{i}", f"gp-{who}", f"drug{i}", "2024-10-01") for i in range(6)],
        ]
    return made
