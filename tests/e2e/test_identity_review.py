"""Reviewing a possible record link in a real browser: the queue, both records side by side with the evidence, the
decision — with axe-core on every page. The council's record arrives through the API with too few details to link
on its own, so the person index sends it to review with the GP's record as the candidate."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest
from playwright.sync_api import Page, expect

from joinedup.identity.features import patient_to_record
from joinedup.identity.index_store import MODEL_BINARY_ID
from joinedup.identity.model import LinkageModel, ModelConfig

from ..identity.people import make_people, two_sources
from ..web import place
from .conftest import check_accessibility
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")
WHO = place.person(7)


@pytest.fixture(scope="module")
def model() -> LinkageModel:
    """A model trained on the linkage tests' made-up place (a few seconds)."""
    patients, _ = two_sources(make_people(1500))
    records = [patient_to_record(p, source) for source, p in patients]
    return LinkageModel.train(records, config=ModelConfig(max_pairs_for_u=3e5))


def _council_record_arrives(base_url: str, headers: dict[str, str], model: LinkageModel) -> None:
    binary = {
        "resourceType": "Binary",
        "id": MODEL_BINARY_ID,
        "contentType": "application/json",
        "data": base64.b64encode(orjson.dumps(model.to_json())).decode("ascii"),
    }
    council = {
        "resourceType": "Patient",
        "id": "council-7",
        "meta": {"source": "https://joinedup.example/source/council"},
        "name": [{"given": [WHO.given]}],  # a given name and a birth date: too few details to link alone
        "birthDate": WHO.birth.isoformat(),
        "generalPractitioner": [{"reference": f"Organization/{WHO.practice.id}"}],
    }
    for resource in (binary, council):
        url = f"{base_url}/fhir/{resource['resourceType']}/{resource['id']}"
        response = httpx.put(url, json=resource, headers={"Content-Type": "application/fhir+json", **headers})
        assert response.status_code in (200, 201), response.text


def test_a_gp_reviews_a_possible_link(
    page: Page, base_url: str, system_headers: dict[str, str], model: LinkageModel
) -> None:
    _council_record_arrives(base_url, system_headers, model)
    sign_in(page, base_url, "GP")
    page.get_by_role("link", name="Record links").first.click()
    expect(page.get_by_role("heading", name="Record links to review")).to_be_visible()
    check_accessibility(page, "identity-01-review-queue")

    page.get_by_role("link", name=WHO.given, exact=True).first.click()
    expect(page.get_by_role("heading", name="Are these records the same person?")).to_be_visible()
    records = page.get_by_test_id("records")
    expect(records).to_contain_text("council")
    expect(records).to_contain_text(WHO.nhs_number)
    expect(page.get_by_test_id("evidence")).to_contain_text("Family name")
    check_accessibility(page, "identity-02-review")

    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Select whether these records are the same person")
    check_accessibility(page, "identity-03-review-error")

    page.get_by_label("Yes, the same person: link the records").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("status")).to_contain_text("Records linked.")
    check_accessibility(page, "identity-04-decided")
