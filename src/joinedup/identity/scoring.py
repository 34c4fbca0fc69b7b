"""The trained model's weights applied in Python: one pair scored in microseconds, with its explanation.

Used by the incremental matcher and to explain batch pairs. The levels are the same definitions Splink runs
(see `comparisons`), so a pair gets the same weight here as in a batch prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .comparisons import FieldComparison, level_index
from .model import LinkageModel, probability_from_weight
from .record import LinkageRecord

PRIOR_FIELD = "prior"


@dataclass(frozen=True)
class FieldWeight:
    """One term of a match weight: a compared field, the level the pair fell in, and its weight (log2 m/u)."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True)
class PairScore:
    match_weight: float
    match_probability: float
    contributions: tuple[FieldWeight, ...]  # the prior first; they add up to match_weight


class ScoringModel:
    """A trained model's prior and per-level weights, ready to score pairs in Python."""

    def __init__(self, model: LinkageModel) -> None:
        self.model = model
        self.comparisons: tuple[FieldComparison, ...] = model.config.field_comparisons()
        self.prior_weight = math.log2(model.prior / (1.0 - model.prior))
        self.weights: tuple[tuple[float, ...], ...] = tuple(
            tuple(0.0 if p is None else math.log2(p[0] / p[1]) for p in levels) for levels in model.parameters
        )

    def levels(self, left: LinkageRecord, right: LinkageRecord) -> dict[str, int]:
        """Each comparison's level index for the pair."""
        return {c.name: level_index(c, left, right) for c in self.comparisons}

    def explain(self, levels: Mapping[str, int]) -> PairScore:
        """The score and its field-by-field explanation for a pair whose levels are known (e.g. from Splink)."""
        contributions = [FieldWeight(PRIOR_FIELD, "probability two random records match", self.prior_weight)]
        for comparison, weights in zip(self.comparisons, self.weights, strict=True):
            index = levels[comparison.name]
            contributions.append(FieldWeight(comparison.name, comparison.levels[index].label, weights[index]))
        total = math.fsum(c.weight for c in contributions)
        return PairScore(total, probability_from_weight(total), tuple(contributions))

    def score(self, left: LinkageRecord, right: LinkageRecord) -> PairScore:
        return self.explain(self.levels(left, right))
