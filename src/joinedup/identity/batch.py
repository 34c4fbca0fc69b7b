"""Batch linkage of a whole place: deterministic pairs, Splink predictions, decisions, persons."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import deterministic
from .backends import Backend
from .clusters import assign_person_ids, connected_components
from .decisions import Outcome, PairDecision, Thresholds, decide_pair
from .model import LinkageModel
from .record import LinkageRecord
from .scoring import PairScore, ScoringModel


@dataclass(frozen=True)
class BatchResult:
    decisions: tuple[PairDecision, ...]  # every pair at or above the lower threshold, plus the deterministic links
    persons: dict[str, str]  # record key → person id
    seconds: dict[str, float] = field(default_factory=dict)  # wall clock per step: predict, decide, persons

    def review_queue(self) -> list[PairDecision]:
        return [d for d in self.decisions if d.outcome is Outcome.REVIEW]

    def links(self) -> list[PairDecision]:
        return [d for d in self.decisions if d.outcome is Outcome.LINK]


def link_batch(
    records: Sequence[LinkageRecord],
    model: LinkageModel,
    thresholds: Thresholds | None = None,
    backend: Backend | None = None,
    previous_persons: Mapping[str, str] | None = None,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> BatchResult:
    """Link every record: automatic links become persons (connected components); review pairs wait for a human.

    Reviewers' decisions win over the model: `must_link` pairs (accepted, merged) are joined whatever the score,
    `cannot_link` pairs (rejected, unmerged) are never joined by a direct link.
    """
    thresholds = thresholds or Thresholds()
    scorer = ScoringModel(model)
    by_key = {r.key: r for r in records}
    decided: dict[tuple[str, str], PairDecision] = {}
    clock = time.perf_counter()
    predicted = model.predict(records, backend=backend, threshold=thresholds.lower)
    seconds = {"predict": time.perf_counter() - clock}
    clock = time.perf_counter()
    explained: dict[tuple[int, ...], PairScore] = {}  # a few thousand level patterns among a borough's pairs
    for pair in predicted:
        a, b = by_key[pair.left], by_key[pair.right]
        pattern = tuple(pair.levels.values())
        score = explained.get(pattern)
        if score is None:
            score = explained[pattern] = scorer.explain(pair.levels)
        decided[_ordered(pair.left, pair.right)] = decide_pair(a, b, score, thresholds)
    # The rule's pairs share an NHS number, so blocking has scored them already (a rule pair scoring below the
    # lower threshold is the exception): only those are scored again here, in Python.
    for left, right in deterministic.pairs(records):
        key = _ordered(left, right)
        if key not in decided:
            a, b = by_key[left], by_key[right]
            decided[key] = decide_pair(a, b, scorer.score(a, b), thresholds)
    decisions = tuple(decided.values())
    del predicted
    seconds["decide"] = time.perf_counter() - clock
    clock = time.perf_counter()
    parted = {_ordered(a, b) for a, b in cannot_link}
    links = [
        (d.left, d.right) for d in decisions if d.outcome is Outcome.LINK and _ordered(d.left, d.right) not in parted
    ]
    links += [(a, b) for a, b in must_link if a in by_key and b in by_key]
    persons = assign_person_ids(connected_components(by_key, links), previous_persons)
    seconds["persons"] = time.perf_counter() - clock
    return BatchResult(decisions, persons, seconds)


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)
