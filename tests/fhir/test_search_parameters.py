"""The search parameter table against the FHIR R4 (4.0.1) specification."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from joinedup.fhir.paths import compile_path, values_at
from joinedup.fhir.resource_types import R4_RESOURCE_TYPES
from joinedup.fhir.search_parameters import (
    CompositeComponent,
    common_parameters,
    indexed_resource_types,
    parameters_for,
)

CORE_TYPES = [
    "Patient",
    "RelatedPerson",
    "Person",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "HealthcareService",
    "Encounter",
    "EpisodeOfCare",
    "Condition",
    "Observation",
    "Procedure",
    "AllergyIntolerance",
    "MedicationRequest",
    "MedicationStatement",
    "Immunization",
    "DiagnosticReport",
    "DocumentReference",
    "CarePlan",
    "CareTeam",
    "Goal",
    "ServiceRequest",
    "Task",
    "Flag",
    "Consent",
    "Communication",
    "Questionnaire",
    "QuestionnaireResponse",
    "Appointment",
    "Group",
    "Provenance",
    "AuditEvent",
]
MORE_TYPES = [
    "Claim",
    "ExplanationOfBenefit",
    "Coverage",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "Device",
    "Specimen",
    "ImagingStudy",
    "List",
    "Composition",
    "Endpoint",
    "Schedule",
    "Slot",
    "NutritionOrder",
    "RiskAssessment",
    "ClinicalImpression",
    "DetectedIssue",
    "FamilyMemberHistory",
    "Media",
    "Basic",
    "Account",
    "CommunicationRequest",
    "DeviceRequest",
    "Subscription",
    "ValueSet",
    "CodeSystem",
    "StructureDefinition",
    "SearchParameter",
]
COMMON = {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"}
LEFT_OUT = {"_text", "_content", "_list", "_has", "_query", "_filter"}
SP = "http://hl7.org/fhir/SearchParameter/"


def all_parameters() -> list[tuple[str, str]]:
    return [(rt, name) for rt in sorted(indexed_resource_types()) for name in sorted(parameters_for(rt))]


@pytest.mark.parametrize("resource_type", CORE_TYPES + MORE_TYPES)
def test_every_listed_type_is_indexed_with_its_own_and_the_common_parameters(resource_type: str) -> None:
    assert resource_type in indexed_resource_types()
    params = parameters_for(resource_type)
    assert set(params) >= COMMON
    assert len(set(params) - COMMON) >= 2
    assert not LEFT_OUT & set(params)


def test_common_parameters_follow_the_resource_definitions() -> None:
    common = common_parameters()
    assert set(common) == COMMON
    expected = {
        "_id": ("token", ("id",), "Resource.id"),
        "_lastUpdated": ("date", ("meta.lastUpdated",), "Resource.meta.lastUpdated"),
        "_tag": ("token", ("meta.tag",), "Resource.meta.tag"),
        "_profile": ("uri", ("meta.profile",), "Resource.meta.profile"),
        "_security": ("token", ("meta.security",), "Resource.meta.security"),
        "_source": ("uri", ("meta.source",), "Resource.meta.source"),
    }
    for name, (kind, paths, expression) in expected.items():
        param = common[name]
        assert (param.type, param.paths, param.expression) == (kind, paths, expression)
        assert param.resource_type == "Resource"


def test_a_type_outside_the_table_still_has_the_common_parameters() -> None:
    assert set(parameters_for("Invoice")) == COMMON
    assert set(parameters_for("NotAType")) == COMMON
    assert "Resource" not in indexed_resource_types()


@pytest.mark.parametrize(
    ("resource_type", "name", "kind", "paths", "targets"),
    [
        ("Observation", "code", "token", ("code",), ()),
        (
            "Observation",
            "date",
            "date",
            ("effectiveDateTime", "effectivePeriod", "effectiveTiming.event", "effectiveInstant"),
            (),
        ),
        ("Observation", "patient", "reference", ("subject",), ("Patient",)),
        ("Observation", "subject", "reference", ("subject",), ("Device", "Group", "Location", "Patient")),
        ("Observation", "value-quantity", "quantity", ("valueQuantity", "valueSampledData"), ()),
        ("Observation", "encounter", "reference", ("encounter",), ("Encounter",)),
        ("Patient", "identifier", "token", ("identifier",), ()),
        ("Patient", "name", "string", ("name",), ()),
        ("Patient", "family", "string", ("name.family",), ()),
        ("Patient", "given", "string", ("name.given",), ()),
        ("Patient", "birthdate", "date", ("birthDate",), ()),
        ("Patient", "gender", "token", ("gender",), ()),
        ("Patient", "address-postalcode", "string", ("address.postalCode",), ()),
        (
            "Patient",
            "general-practitioner",
            "reference",
            ("generalPractitioner",),
            ("Organization", "Practitioner", "PractitionerRole"),
        ),
        ("Patient", "organization", "reference", ("managingOrganization",), ("Organization",)),
        ("Patient", "phone", "token", ("telecom[system=phone]",), ()),
        ("Patient", "email", "token", ("telecom[system=email]",), ()),
        ("Patient", "death-date", "date", ("deceasedDateTime",), ()),
        ("Encounter", "date", "date", ("period",), ()),
        ("Encounter", "class", "token", ("class",), ()),
        ("Encounter", "type", "token", ("type",), ()),
        ("Encounter", "subject", "reference", ("subject",), ("Group", "Patient")),
        ("Encounter", "service-provider", "reference", ("serviceProvider",), ("Organization",)),
        (
            "Encounter",
            "participant",
            "reference",
            ("participant.individual",),
            ("Practitioner", "PractitionerRole", "RelatedPerson"),
        ),
        ("Encounter", "practitioner", "reference", ("participant.individual",), ("Practitioner",)),
        (
            "Task",
            "owner",
            "reference",
            ("owner",),
            (
                "CareTeam",
                "Device",
                "HealthcareService",
                "Organization",
                "Patient",
                "Practitioner",
                "PractitionerRole",
                "RelatedPerson",
            ),
        ),
        ("Task", "status", "token", ("status",), ()),
        ("Task", "patient", "reference", ("for",), ("Patient",)),
        ("Task", "authored-on", "date", ("authoredOn",), ()),
        ("Condition", "code", "token", ("code",), ()),
        ("Condition", "onset-date", "date", ("onsetDateTime", "onsetPeriod"), ()),
        ("Condition", "clinical-status", "token", ("clinicalStatus",), ()),
        ("MedicationRequest", "code", "token", ("medicationCodeableConcept",), ()),
        ("MedicationRequest", "medication", "reference", ("medicationReference",), ("Medication",)),
        ("MedicationRequest", "authoredon", "date", ("authoredOn",), ()),
        (
            "CarePlan",
            "activity-date",
            "date",
            ("activity.detail.scheduledTiming.event", "activity.detail.scheduledPeriod"),
            (),
        ),
        ("Consent", "patient", "reference", ("patient",), ("Patient",)),
        ("Consent", "status", "token", ("status",), ()),
        ("Consent", "scope", "token", ("scope",), ()),
        (
            "Group",
            "member",
            "reference",
            ("member.entity",),
            ("Device", "Group", "Medication", "Patient", "Practitioner", "PractitionerRole", "Substance"),
        ),
        ("Group", "characteristic", "token", ("characteristic.code",), ()),
        (
            "Provenance",
            "agent",
            "reference",
            ("agent.who",),
            ("Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson"),
        ),
        (
            "AuditEvent",
            "agent",
            "reference",
            ("agent.who",),
            ("Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson"),
        ),
        ("AuditEvent", "date", "date", ("recorded",), ()),
        ("Immunization", "date", "date", ("occurrenceDateTime",), ()),
        ("AllergyIntolerance", "code", "token", ("code", "reaction.substance"), ()),
        ("Procedure", "date", "date", ("performedDateTime", "performedPeriod"), ()),
        ("Location", "address-postalcode", "string", ("address.postalCode",), ()),
    ],
)
def test_spot_checks_against_the_specification(
    resource_type: str, name: str, kind: str, paths: tuple[str, ...], targets: tuple[str, ...]
) -> None:
    param = parameters_for(resource_type)[name]
    assert (param.name, param.type, param.paths, param.targets) == (name, kind, paths, targets)
    assert param.resource_type == resource_type


def test_any_target_references_accept_every_r4_type() -> None:
    for resource_type, name in [("Provenance", "target"), ("AuditEvent", "entity"), ("Task", "focus")]:
        param = parameters_for(resource_type)[name]
        assert param.type == "reference"
        assert {"Patient", "Observation", "Encounter"} <= set(param.targets)


def test_expressions_and_urls_are_the_specifications() -> None:
    obs = parameters_for("Observation")
    assert obs["patient"].expression.startswith("AllergyIntolerance.patient | CarePlan.subject.where(resolve() is")
    assert "Observation.subject.where(resolve() is Patient)" in obs["patient"].expression
    assert obs["patient"].url == SP + "clinical-patient"
    assert obs["value-quantity"].expression == "(Observation.value as Quantity) | (Observation.value as SampledData)"
    assert parameters_for("Patient")["birthdate"].expression == (
        "Patient.birthDate | Person.birthDate | RelatedPerson.birthDate"
    )
    assert parameters_for("Patient")["birthdate"].url == SP + "individual-birthdate"
    assert parameters_for("Condition")["onset-date"].expression == (
        "Condition.onset.as(dateTime) | Condition.onset.as(Period)"
    )
    assert parameters_for("Task")["patient"].expression == "Task.for.where(resolve() is Patient)"
    assert parameters_for("Encounter")["class"].url == SP + "Encounter-class"


def test_observation_composites() -> None:
    obs = parameters_for("Observation")
    cvq = obs["code-value-quantity"]
    assert cvq.type == "composite"
    assert cvq.paths == ("",)
    assert cvq.components == (
        CompositeComponent("code", "code"),
        CompositeComponent("value-quantity", "valueQuantity"),
    )
    ccvq = obs["component-code-value-quantity"]
    assert ccvq.paths == ("component",)
    assert ccvq.components == (
        CompositeComponent("component-code", "code"),
        CompositeComponent("component-value-quantity", "valueQuantity"),
    )
    assert obs["combo-code-value-quantity"].paths == ("", "component")
    assert obs["code-value-concept"].components[1] == CompositeComponent("value-concept", "valueCodeableConcept")


def test_group_characteristic_value_composite() -> None:
    param = parameters_for("Group")["characteristic-value"]
    assert param.type == "composite"
    assert param.paths == ("characteristic",)
    assert param.components == (
        CompositeComponent("characteristic", "code"),
        CompositeComponent("value", "valueCodeableConcept"),
    )
    assert param.special is not None and "valueBoolean" in param.special


def test_specials_name_the_rule_they_need() -> None:
    deceased = parameters_for("Patient")["deceased"]
    assert deceased.type == "token"
    assert deceased.paths == ("deceasedBoolean", "deceasedDateTime")
    assert deceased.special is not None and "deceased" in deceased.special
    assert deceased.expression == "Patient.deceased.exists() and Patient.deceased != false"
    near = parameters_for("Location")["near"]
    assert (near.type, near.paths) == ("special", ("position",))
    assert near.special is not None


@pytest.mark.parametrize(("resource_type", "name"), all_parameters())
def test_every_parameter_is_well_formed(resource_type: str, name: str) -> None:
    param = parameters_for(resource_type)[name]
    assert param.name == name
    assert param.url.startswith(SP)
    assert param.expression
    assert param.paths, "every parameter needs at least one executable path"
    for path in param.paths:
        compile_path(path)  # raises when the path breaks the grammar
        assert not path.startswith(resource_type + "."), path
    for component in param.components:
        compile_path(component.path)
        assert component.param in parameters_for(resource_type)
    if param.type == "composite":
        assert len(param.components) >= 2
    else:
        assert param.components == ()
    if param.type == "reference":
        assert param.targets, f"{resource_type}.{name} has no targets"
        assert list(param.targets) == sorted(param.targets)
        assert set(param.targets) <= R4_RESOURCE_TYPES
    else:
        assert param.targets == ()


def test_paths_execute_over_a_resource() -> None:
    patient = {
        "resourceType": "Patient",
        "telecom": [{"system": "email", "value": "a@example.org"}, {"system": "phone", "value": "0113 496 0000"}],
        "address": [{"postalCode": "LS1 4AP"}],
        "name": [{"family": "Smith", "given": ["Ann"]}],
    }
    params = parameters_for("Patient")
    assert [v["value"] for v in values_at(patient, params["phone"].paths[0])] == ["0113 496 0000"]
    assert list(values_at(patient, params["address-postalcode"].paths[0])) == ["LS1 4AP"]
    assert list(values_at(patient, params["given"].paths[0])) == ["Ann"]
    observation = {"resourceType": "Observation", "effectiveTiming": {"event": ["2024-01-02"]}}
    date_paths = parameters_for("Observation")["date"].paths
    assert [v for p in date_paths for v in values_at(observation, p)] == ["2024-01-02"]


def test_the_data_file_is_deterministic() -> None:
    text = resources.files("joinedup.fhir").joinpath("data", "search_parameters_r4.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    assert list(raw) == sorted(raw)
    for params in raw.values():
        names = [p["name"] for p in params]
        assert names == sorted(names)
        assert len(names) == len(set(names))
        for p in params:
            assert list(p) == sorted(p)
    assert text == json.dumps(raw, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_table_is_loaded_once() -> None:
    assert parameters_for("Patient") is parameters_for("Patient")
    assert common_parameters() is common_parameters()
