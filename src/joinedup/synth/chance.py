"""Small, fast random draws on Python's `random.Random` (one generator per person, seeded from the place's seed
and the person's number, so people can be generated in any order and still come out the same)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def person_rng(seed: int, person: int) -> random.Random:
    return random.Random(seed * 1_000_003 + person * 7_919 + 17)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's method for small means, a rounded normal for large ones."""
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lognormal_days(rng: random.Random, median: float, sigma: float) -> int:
    return max(0, round(median * math.exp(rng.gauss(0.0, sigma))))


def weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]
