"""The Splink model trained on the made-up place: the usual disagreements still link; save and load."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from joinedup.identity.batch import link_batch
from joinedup.identity.decisions import Outcome, Thresholds, decide_pair
from joinedup.identity.features import patient_to_record
from joinedup.identity.model import LinkageModel
from joinedup.identity.record import LinkageRecord
from joinedup.identity.scoring import PRIOR_FIELD, ScoringModel

from .people import Person, moved_address, patient

Place = tuple[list[LinkageRecord], dict[str, int]]


def _pair(person: Person, **council: object) -> tuple[LinkageRecord, LinkageRecord]:
    gp = patient_to_record(patient(person, "x-gp"), "gp-test")
    other = patient_to_record(patient(person, "x-council", **council), "council-test")  # type: ignore[arg-type]
    return gp, other


@pytest.fixture(scope="module")
def scorer(model: LinkageModel) -> ScoringModel:
    return ScoringModel(model)


def test_nickname_links(scorer: ScoringModel, people: list[Person]) -> None:
    person = next(p for p in people if p.given == "william")
    gp, council = _pair(person, given="Bill")
    score = scorer.score(gp, council)
    assert dict((c.field, c.level) for c in score.contributions)["given_name"] == "nickname of the same name"
    assert decide_pair(gp, council, score, Thresholds()).outcome is Outcome.LINK


def test_swapped_day_and_month_links(scorer: ScoringModel, people: list[Person]) -> None:
    person = next(p for p in people if int(p.birth[8:]) <= 12 and p.birth[5:7] != p.birth[8:])
    swapped = f"{person.birth[:4]}-{person.birth[8:]}-{person.birth[5:7]}"
    gp, council = _pair(person, birth=swapped)
    score = scorer.score(gp, council)
    assert dict((c.field, c.level) for c in score.contributions)["birth_date"] == "day and month swapped"
    assert decide_pair(gp, council, score, Thresholds()).outcome is Outcome.LINK


def test_misspelt_family_name_links(scorer: ScoringModel, people: list[Person]) -> None:
    person = next(p for p in people if p.family == "robinson")
    gp, council = _pair(person, family="Robinsen")
    assert decide_pair(gp, council, scorer.score(gp, council), Thresholds()).outcome is Outcome.LINK


def test_moved_address_links_through_address_history(scorer: ScoringModel, people: list[Person]) -> None:
    person = people[3]
    gp = patient_to_record(patient(person, "x-gp", address=moved_address(person)), "gp-test")
    council = patient_to_record(
        patient(person, "x-c", address=[{"use": "home", "line": ["1 Old Street"], "postalCode": person.old_postcode}]),
        "council-test",
    )
    score = scorer.score(gp, council)
    assert dict((c.field, c.level) for c in score.contributions)["address"].startswith("a postcode shared")
    assert decide_pair(gp, council, score, Thresholds()).outcome is Outcome.LINK


def test_different_people_do_not_link(scorer: ScoringModel, people: list[Person]) -> None:
    a, b = people[0], next(p for p in people if p.family != people[0].family and p.given != people[0].given)
    left = patient_to_record(patient(a, "1"), "gp-test")
    right = patient_to_record(patient(b, "2"), "council-test")
    assert decide_pair(left, right, scorer.score(left, right), Thresholds()).outcome is Outcome.NEW_PERSON


def test_a_sparse_record_goes_to_review_never_linked(scorer: ScoringModel, people: list[Person]) -> None:
    person = people[5]
    gp = patient_to_record(patient(person, "x-gp"), "gp-test")
    surname_only = patient_to_record(
        {
            "resourceType": "Patient",
            "id": "s1",
            "name": [{"family": person.family}],
            "address": [{"postalCode": person.postcode, "line": [person.line]}],
        },
        "voluntary",
    )
    assert surname_only.sparse
    decision = decide_pair(gp, surname_only, scorer.score(gp, surname_only), Thresholds(lower=0.01))
    assert decision.outcome is Outcome.REVIEW


def test_explanations_add_up_to_the_match_weight(scorer: ScoringModel, people: list[Person]) -> None:
    gp, council = _pair(people[7], given="Someone")
    score = scorer.score(gp, council)
    assert score.contributions[0].field == PRIOR_FIELD
    assert {c.field for c in score.contributions[1:]} == {c.name for c in scorer.comparisons}
    assert math.isclose(sum(c.weight for c in score.contributions), score.match_weight, abs_tol=1e-9)
    assert math.isclose(score.match_probability, 1 / (1 + 2**-score.match_weight))


def test_python_scores_equal_splink_scores_for_every_batch_pair(model: LinkageModel, place: Place) -> None:
    records, _ = place
    by_key = {r.key: r for r in records}
    scorer = ScoringModel(model)
    pairs = model.predict(records, threshold=0.0)
    compared = {frozenset((p.left, p.right)) for p in pairs}
    members: dict[int, list[str]] = {}
    for record in records:
        members.setdefault(place[1][record.key], []).append(record.key)
    true_pairs = {frozenset((a, b)) for keys in members.values() for a in keys for b in keys if a < b}
    assert len(true_pairs & compared) >= 0.99 * len(true_pairs) and len(compared) > len(true_pairs)
    for pair in pairs:
        python = scorer.score(by_key[pair.left], by_key[pair.right])
        assert scorer.levels(by_key[pair.left], by_key[pair.right]) == pair.levels
        assert math.isclose(python.match_weight, pair.match_weight, abs_tol=1e-6)


def test_batch_quality_on_the_made_up_place(model: LinkageModel, place: Place) -> None:
    records, truth = place
    result = link_batch(records, model)
    persons = result.persons
    assert set(persons) == {r.key for r in records}
    linked = [(d.left, d.right) for d in result.links()]
    true_links = sum(truth[a] == truth[b] for a, b in linked)
    assert true_links / len(linked) >= 0.995
    true_pairs = len(records) - len(set(truth.values()))
    assert true_links / true_pairs >= 0.95
    for decision in result.decisions:
        assert math.isclose(sum(c.weight for c in decision.contributions), decision.match_weight, abs_tol=1e-6)


def test_save_and_load_give_the_same_model(model: LinkageModel, place: Place, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model.save(path)
    loaded = LinkageModel.load(path)
    assert loaded.to_json() == model.to_json()
    records, _ = place
    sample = records[:400]
    before = {(p.left, p.right): p.match_weight for p in model.predict(sample)}
    after = {(p.left, p.right): p.match_weight for p in loaded.predict(sample)}
    assert before.keys() == after.keys()
    assert all(math.isclose(before[k], after[k], abs_tol=1e-9) for k in before)


def test_a_model_from_another_version_is_refused(model: LinkageModel) -> None:
    data = model.to_json()
    data["comparisons"][1]["levels"][1]["label"] = "something else"
    with pytest.raises(ValueError, match="does not match"):
        LinkageModel.from_json(data)
    with pytest.raises(ValueError, match="not a JoinedUp"):
        LinkageModel.from_json({"format": "other"})
