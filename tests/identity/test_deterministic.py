from __future__ import annotations

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.identity import deterministic
from joinedup.identity.features import patient_to_record


def _record(source: str, pid: str, nhs: str, birth: str, family: str = "Smith") -> object:
    return patient_to_record(
        {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
            "name": [{"family": family, "given": ["Ann"]}],
            "birthDate": birth,
        },
        source,
    )


def test_valid_nhs_number_and_same_birth_date_link_whatever_the_names() -> None:
    gp = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "1",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
            "name": [{"family": "Smith"}],
            "birthDate": "1970-01-02",
        },
        "gp",
    )
    hospital = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "A",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "943 476 5919"}],
            "name": [{"family": "Jones"}],
            "birthDate": "1970-01-02",
        },
        "hospital",
    )
    assert deterministic.links(gp, hospital)
    assert deterministic.pairs([gp, hospital]) == [("gp|1", "hospital|A")]


def test_different_birth_date_does_not_link_deterministically() -> None:
    a = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "1",
            "birthDate": "1970-01-02",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
        },
        "gp",
    )
    b = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "2",
            "birthDate": "1970-02-01",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
        },
        "council",
    )
    assert not deterministic.links(a, b)
    assert deterministic.pairs([a, b]) == []


def test_an_nhs_number_failing_modulo_11_never_links() -> None:
    invalid = "9434765918"  # the right number with a wrong check digit
    a = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "1",
            "birthDate": "1970-01-02",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": invalid}],
        },
        "gp",
    )
    b = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "2",
            "birthDate": "1970-01-02",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": invalid}],
        },
        "council",
    )
    assert not deterministic.links(a, b)
    assert deterministic.pairs([a, b]) == []
