"""The feeds as the store will see them: valid R4, unique ids, references that resolve, provenance, NHS numbers."""

from __future__ import annotations

import re
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, is_valid
from joinedup.fhir.references import parse_reference, reference_holders
from joinedup.fhir.source import SOURCE_TAG_SYSTEM
from joinedup.fhir.validation import validate_resource
from joinedup.synth import SOURCE_URI_PREFIX
from joinedup.synth.generate import PlaceSummary

from .conftest import resources

ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def test_every_resource_is_valid_r4(small_place: PlaceSummary) -> None:
    for _, resource in resources(small_place.out_dir):
        validate_resource(resource)


def test_ids_are_unique_and_prefixed_with_their_source(small_place: PlaceSummary) -> None:
    seen: set[tuple[str, str]] = set()
    for feed, resource in resources(small_place.out_dir):
        key = (resource["resourceType"], resource["id"])
        assert key not in seen
        seen.add(key)
        assert ID.match(resource["id"]) and resource["id"].startswith(f"{feed}-")


def test_every_reference_resolves_within_the_place(small_place: PlaceSummary) -> None:
    everything: dict[tuple[str, str], str] = {}
    references: list[tuple[str, str, Any]] = []
    for feed, resource in resources(small_place.out_dir):
        everything[(resource["resourceType"], resource["id"])] = feed
        for path, holder in reference_holders(resource, resource["resourceType"]):
            references.append((feed, resource["id"], holder["reference"], str(path)))
    assert references
    for feed, holder_id, text, path in references:
        parsed = parse_reference(text)
        assert parsed is not None and parsed.base is None, text
        target = everything.get((parsed.resource_type, parsed.resource_id))
        assert target is not None, f"{holder_id}: {text} does not resolve"
        # A source's clinical records point at its own Patients; shared things live in the place feed. A caseload
        # episode that came from a referral names the referral, which the sender's feed holds (decision 0506).
        across = path.startswith("EpisodeOfCare.referralRequest") and parsed.resource_type == "ServiceRequest"
        assert target in (feed, "place") or across, f"{holder_id} in {feed} points into {target}"


def test_every_resource_says_which_partner_it_came_from(small_place: PlaceSummary) -> None:
    for feed, resource in resources(small_place.out_dir):
        meta = resource["meta"]
        assert meta["source"] == f"{SOURCE_URI_PREFIX}{feed}"
        assert [t["system"] for t in meta["tag"]] == [SOURCE_TAG_SYSTEM]
        assert meta["tag"][0]["code"] and meta["tag"][0]["display"]


def test_nhs_numbers_pass_modulo_11_and_only_social_care_and_voluntary_records_lack_them(
    small_place: PlaceSummary,
) -> None:
    without: dict[str, int] = {}
    for feed, resource in resources(small_place.out_dir):
        if resource["resourceType"] != "Patient":
            continue
        numbers = [i["value"] for i in resource["identifier"] if i["system"] == NHS_NUMBER_SYSTEM]
        assert all(is_valid(n) for n in numbers)
        assert any(i["system"].endswith(f"/{feed}/local") for i in resource["identifier"])
        if not numbers:
            without[feed] = without.get(feed, 0) + 1
    assert set(without) <= {"socialcare", "voluntary"}
    assert without, "a quarter of social care and voluntary records should have no NHS number"


def test_codes_are_the_ones_each_sector_uses(small_place: PlaceSummary) -> None:
    systems: dict[tuple[str, str], set[str]] = {}
    for feed, resource in resources(small_place.out_dir):
        concept = resource.get("code") or resource.get("medicationCodeableConcept")
        if isinstance(concept, dict):
            for coding in concept.get("coding", []):
                systems.setdefault((feed, resource["resourceType"]), set()).add(coding["system"])
    assert systems[("gp", "Condition")] == {"http://snomed.info/sct"}
    assert systems[("gp", "MedicationRequest")] == {"https://dmd.nhs.uk"}
    assert systems[("acute", "Condition")] == {"http://hl7.org/fhir/sid/icd-10"}
    assert systems[("acute", "Procedure")] == {"http://fhir.hl7.org.uk/CodeSystem/OPCS-4"}
