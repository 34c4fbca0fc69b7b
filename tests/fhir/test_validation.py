"""The behaviours of validate_resource / validation_issues that the fast path must not change."""

from __future__ import annotations

import pytest

from joinedup.fhir import nhs_number
from joinedup.fhir.errors import InvalidResource, UnknownResourceType
from joinedup.fhir.validation import ID_PATTERN, location_of, validate_resource, validation_issues


def _nhs(value: str) -> dict[str, str]:
    return {"system": nhs_number.NHS_NUMBER_SYSTEM, "value": value}


def test_valid_patient_passes() -> None:
    validate_resource({"resourceType": "Patient", "id": "p1", "identifier": [_nhs("9434765919")]}, "Patient")


@pytest.mark.parametrize("resource_type", ["Patient", "RelatedPerson", "Person"])
def test_nhs_number_modulo_11(resource_type: str) -> None:
    extra = {"patient": {"reference": "Patient/p1"}} if resource_type == "RelatedPerson" else {}
    resource = {"resourceType": resource_type, "identifier": [_nhs("9434765919"), _nhs("9434765918")], **extra}
    issues = validation_issues(resource)
    assert [issue.location for issue in issues] == [f"{resource_type}.identifier[1].value"]
    with pytest.raises(InvalidResource) as raised:
        validate_resource(resource)
    assert raised.value.location == f"{resource_type}.identifier[1].value"


def test_nhs_number_not_checked_on_other_types() -> None:
    organization = {"resourceType": "Organization", "identifier": [_nhs("9434765918")]}
    assert validation_issues(organization) == []


def test_unknown_type_raises() -> None:
    with pytest.raises(UnknownResourceType):
        validation_issues({"resourceType": "SubscriptionTopic"})  # R4B and R5 know it; R4 does not


def test_resource_type_mismatch_and_shape() -> None:
    assert validation_issues({"resourceType": "Patient"}, "Observation")[0].location == "resourceType"
    assert validation_issues({"id": "x"})[0].location == "resourceType"
    assert validation_issues([])[0].location == "$"


def test_id_rule() -> None:
    assert ID_PATTERN.match("a" * 64) and not ID_PATTERN.match("a" * 65)
    assert validation_issues({"resourceType": "Patient", "id": "a" * 65})[0].location == "Patient.id"


def test_r4_only_types_get_the_domain_resource_shape_check() -> None:
    assert validation_issues({"resourceType": "MedicinalProduct", "anything": 1}) == []
    issues = validation_issues({"resourceType": "MedicinalProduct", "extension": {}, "meta": []})
    assert [issue.location for issue in issues] == ["MedicinalProduct.extension", "MedicinalProduct.meta"]


def test_locations_are_fhirpath_like() -> None:
    assert location_of("Patient", ("name", 0, "family")) == "Patient.name[0].family"
    issues = validation_issues({"resourceType": "Patient", "name": [{"family": 7}]})
    assert [issue.location for issue in issues] == ["Patient.name[0].family"]
    choice = validation_issues({"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020"})
    assert choice and choice[0].location == "Patient"


def test_unknown_embedded_type_is_an_issue_not_a_crash() -> None:
    issues = validation_issues({"resourceType": "Patient", "contained": [{"resourceType": "Bogus"}]})
    assert issues and issues[0].code == "structure"
