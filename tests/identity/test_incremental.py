"""Incremental matching agrees with the batch and places records into persons."""

from __future__ import annotations

import pytest

from joinedup.identity.batch import link_batch
from joinedup.identity.decisions import Method, Outcome, Thresholds, decide_pair
from joinedup.identity.features import patient_to_record
from joinedup.identity.incremental import BlockingIndex, IncrementalMatcher
from joinedup.identity.model import LinkageModel
from joinedup.identity.record import LinkageRecord
from joinedup.identity.scoring import ScoringModel

from .people import Person, patient

Place = tuple[list[LinkageRecord], dict[str, int]]


@pytest.fixture(scope="module")
def gp_index(place: Place) -> tuple[BlockingIndex, list[LinkageRecord], list[LinkageRecord]]:
    records, _ = place
    gp = [r for r in records if r.source == "gp"]
    council = [r for r in records if r.source == "council"]
    index = BlockingIndex()
    index.add_all((r, f"person-{r.patient_id}") for r in gp)
    return index, gp, council


def test_incremental_gives_the_batch_decision_for_the_same_pair(
    model: LinkageModel, place: Place, gp_index: tuple[BlockingIndex, list[LinkageRecord], list[LinkageRecord]]
) -> None:
    records, _ = place
    index, _, council = gp_index
    batch = {(d.left, d.right): d for d in link_batch(records, model).decisions}
    batch.update({(d.right, d.left): d for d in batch.values()})
    matcher = IncrementalMatcher(ScoringModel(model), index)
    compared = 0
    for record in council[:300]:
        for candidate in index.candidates(record):
            pair = decide_pair(record, candidate, matcher.scorer.score(record, candidate), Thresholds())
            if pair.outcome is Outcome.NEW_PERSON:
                assert (record.key, candidate.key) not in batch
                continue
            compared += 1
            from_batch = batch[(record.key, candidate.key)]
            assert from_batch.outcome is pair.outcome
            assert abs(from_batch.match_weight - pair.match_weight) < 1e-6
    assert compared > 200


def test_placing_records_links_reviews_or_creates_persons(
    model: LinkageModel, place: Place, gp_index: tuple[BlockingIndex, list[LinkageRecord], list[LinkageRecord]]
) -> None:
    _, truth = place
    _, gp, council = gp_index
    index = BlockingIndex()
    index.add_all((r, f"person-{truth[r.key]}") for r in gp)
    matcher = IncrementalMatcher(ScoringModel(model), index)
    placed = [matcher.place(r) for r in council[:200]]
    linked = [p for p in placed if p.decision.outcome is Outcome.LINK]
    assert len(linked) >= 180
    assert all(p.person_id == f"person-{truth[p.decision.record]}" for p in linked)
    assert all(p.decision.best is not None for p in linked)
    assert len(index) == len(gp) + 200


def test_a_sparse_arrival_is_reviewed_even_with_a_strong_candidate(model: LinkageModel, people: list[Person]) -> None:
    person = people[9]
    index = BlockingIndex()
    index.add(patient_to_record(patient(person, "gp1"), "gp"), "person-9")
    matcher = IncrementalMatcher(ScoringModel(model), index)
    sparse = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "v1",
            "name": [{"family": person.family}],
            "address": [{"postalCode": person.postcode, "line": [person.line]}],
        },
        "voluntary",
    )
    placement = matcher.place(sparse)
    assert placement.decision.outcome is Outcome.REVIEW
    assert placement.decision.method is Method.SPARSE
    assert placement.person_id != "person-9"


def test_deterministic_rule_links_incrementally(model: LinkageModel, people: list[Person]) -> None:
    person = people[11]
    index = BlockingIndex()
    index.add(patient_to_record(patient(person, "gp1", nhs=person.nhs), "gp"), "person-11")
    matcher = IncrementalMatcher(ScoringModel(model), index)
    renamed = patient_to_record(patient(person, "h1", given="Zebedee", family="Quux", nhs=person.nhs), "hospital")
    placement = matcher.place(renamed)
    assert placement.decision.outcome is Outcome.LINK
    assert placement.decision.method is Method.DETERMINISTIC
    assert placement.person_id == "person-11"
