"""Link, review or new person: thresholds on match probability, each decision with its explanation.

The decisions are plain data; the store wiring records each as a Provenance resource (agent: this engine and its
model version, or the reviewer; entity: the two source Patients; the contributions as the explanation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from . import deterministic
from .record import LinkageRecord
from .scoring import FieldWeight, PairScore


class Outcome(Enum):
    LINK = "link"  # same person, linked automatically
    REVIEW = "review"  # a human decides
    NEW_PERSON = "new-person"  # no one in the index is this person


class Method(Enum):
    DETERMINISTIC = "deterministic"
    PROBABILISTIC = "probabilistic"
    SPARSE = "sparse"  # too little to match on


@dataclass(frozen=True)
class Thresholds:
    """Auto-link at or above `upper`; review from `lower` up to it; below `lower` the pair is not a match."""

    upper: float = 0.99
    lower: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.lower <= self.upper < 1.0:
            raise ValueError("thresholds need 0 < lower <= upper < 1")


@dataclass(frozen=True)
class PairDecision:
    """What was decided about two source records, and why."""

    left: str
    right: str
    outcome: Outcome
    method: Method
    match_probability: float
    match_weight: float
    contributions: tuple[FieldWeight, ...]  # add up to match_weight (the prior first)
    reason: str


@dataclass(frozen=True)
class RecordDecision:
    """What was decided for one arriving record: its best candidates and the outcome."""

    record: str
    outcome: Outcome
    method: Method
    best: PairDecision | None
    candidates: tuple[PairDecision, ...] = field(default_factory=tuple)  # match probability >= lower, best first
    reason: str = ""


def decide_pair(left: LinkageRecord, right: LinkageRecord, score: PairScore, thresholds: Thresholds) -> PairDecision:
    """The deterministic rule first, then the thresholds; a sparse record is never linked automatically."""
    if deterministic.links(left, right):
        return _pair(left, right, Outcome.LINK, Method.DETERMINISTIC, score, deterministic.RULE)
    p = score.match_probability
    if p < thresholds.lower:
        return _pair(
            left,
            right,
            Outcome.NEW_PERSON,
            Method.PROBABILISTIC,
            score,
            f"match probability {p:.4f} below {thresholds.lower}",
        )
    if left.sparse or right.sparse:
        return _pair(left, right, Outcome.REVIEW, Method.SPARSE, score, "a record is too sparse to link without review")
    if p >= thresholds.upper:
        return _pair(
            left, right, Outcome.LINK, Method.PROBABILISTIC, score, f"match probability {p:.4f} >= {thresholds.upper}"
        )
    return _pair(
        left, right, Outcome.REVIEW, Method.PROBABILISTIC, score, f"match probability {p:.4f} between thresholds"
    )


def decide_record(record: LinkageRecord, pairs: Sequence[PairDecision]) -> RecordDecision:
    """One arriving record against its scored candidates: link to the best, review, or a new person."""
    candidates = tuple(
        sorted((p for p in pairs if p.outcome is not Outcome.NEW_PERSON), key=lambda p: -p.match_probability)
    )
    linked = [p for p in candidates if p.outcome is Outcome.LINK]
    deterministic_links = [p for p in linked if p.method is Method.DETERMINISTIC]
    if deterministic_links:
        best = deterministic_links[0]
        return RecordDecision(record.key, Outcome.LINK, Method.DETERMINISTIC, best, candidates, best.reason)
    if record.sparse:
        top = candidates[0] if candidates else None
        return RecordDecision(
            record.key, Outcome.REVIEW, Method.SPARSE, top, candidates, "too sparse to match (review)"
        )
    if linked:
        return RecordDecision(record.key, Outcome.LINK, Method.PROBABILISTIC, linked[0], candidates, linked[0].reason)
    if candidates:
        best = candidates[0]
        return RecordDecision(record.key, Outcome.REVIEW, best.method, best, candidates, best.reason)
    return RecordDecision(
        record.key, Outcome.NEW_PERSON, Method.PROBABILISTIC, None, (), "no candidate above the lower threshold"
    )


def _pair(
    left: LinkageRecord, right: LinkageRecord, outcome: Outcome, method: Method, score: PairScore, reason: str
) -> PairDecision:
    return PairDecision(
        left=left.key,
        right=right.key,
        outcome=outcome,
        method=method,
        match_probability=score.match_probability,
        match_weight=score.match_weight,
        contributions=score.contributions,
        reason=reason,
    )
