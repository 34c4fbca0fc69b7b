"""The review pages: the queue, both records side by side with the evidence, and a reviewer's decision."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from joinedup.identity.batch_service import BatchLinker
from joinedup.identity.decisions import Thresholds
from joinedup.identity.index_store import IndexStore
from joinedup.identity.model import LinkageModel
from joinedup.identity.resources import ReviewStatus

from ..web import place
from ..web.conftest import loaded, sign_in_as, web  # noqa: F401  (fixtures)

WHO = place.person(1)


def _review_queue(web: TestClient, model: LinkageModel) -> IndexStore:  # noqa: F811
    """The council's record of WHO under a familiar name and without an NHS number; every probabilistic pair to
    review (an upper threshold no pair reaches)."""
    index: IndexStore = web.app.state.person_index.index  # type: ignore[attr-defined]  # the app's, with its settings
    index.save_model(model)
    council = place.patient(WHO)
    council.update(id="council-1", identifier=[], name=[{"family": WHO.family, "given": [WHO.given[:3]]}])
    council["meta"] = {"source": "https://joinedup.example/source/council"}
    web.put("/fhir/Patient/council-1", json=council)
    BatchLinker(index, Thresholds(upper=0.999999999, lower=0.2)).run()
    return index


def test_a_reviewer_sees_both_records_and_the_evidence_and_decides(web: TestClient, model: LinkageModel) -> None:  # noqa: F811
    index = _review_queue(web, model)
    [item] = [r for r in index.reviews(ReviewStatus.OPEN) if "council-1" in (r.patient_id, r.candidate_id)]
    sign_in_as(web, "gp")
    queue = web.get("/identity/review").text
    assert "Record links to review" in queue and f'href="/identity/review/{item.id}"' in queue

    page = web.get(f"/identity/review/{item.id}").text
    assert "Are these records the same person?" in page
    assert WHO.nhs_number in page and "council" in page and WHO.family in page
    evidence = page.split('data-testid="evidence"')[1]
    for field in ("Given name", "Family name", "Date of birth", "NHS number"):
        assert field in evidence
    assert re.search(r"Match probability \d+\.\d%", evidence)

    missing = web.post(f"/identity/review/{item.id}", data={})
    assert missing.status_code == 400 and "Select whether these records are the same person" in missing.text

    decided = web.post(f"/identity/review/{item.id}", data={"decision": "accept"}, follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == "/identity/review?done=accepted"
    assert "Records linked." in web.get("/identity/review?done=accepted").text
    person = index.person_of("council-1")
    assert person is not None and set(person.links) == {WHO.patient_id, "council-1"}


def test_residents_cannot_review(web: TestClient) -> None:  # noqa: F811
    sign_in_as(web, "resident")
    assert web.get("/identity/review").status_code == 403
