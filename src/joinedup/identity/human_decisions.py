"""Reviewers' decisions as constraints on the model: joined pairs stay joined, parted pairs stay apart.

Read from the reviewers' Provenances (oldest first, so a later decision about the same two records wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .resources import Activity, Resource, activity_of, entity_patients


@dataclass
class Constraints:
    must_link: set[tuple[str, str]] = field(default_factory=set)  # Patient id pairs, ordered
    cannot_link: set[tuple[str, str]] = field(default_factory=set)

    def keyed(self, key_of: Mapping[str, str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The pairs as record keys (pairs whose Patients are no longer stored are dropped)."""

        def convert(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
            return [(key_of[a], key_of[b]) for a, b in sorted(pairs) if a in key_of and b in key_of]

        return convert(self.must_link), convert(self.cannot_link)

    def decided(self, a: str, b: str) -> bool:
        pair = _ordered(a, b)
        return pair in self.must_link or pair in self.cannot_link


def constraints_from(provenances: Sequence[Resource]) -> Constraints:
    found = Constraints()
    for provenance in provenances:
        activity = activity_of(provenance)
        about, removed = entity_patients(provenance)
        if activity in (Activity.ACCEPT, Activity.MERGE):
            pairs = {_ordered(about[0], other) for other in about[1:]} if about else set()
            found.must_link |= pairs
            found.cannot_link -= pairs
        elif activity is Activity.REJECT and len(about) >= 2:
            pair = _ordered(about[0], about[1])
            found.cannot_link.add(pair)
            found.must_link.discard(pair)
        elif activity is Activity.UNMERGE and removed is not None:
            for other in about:
                pair = _ordered(removed, other)
                found.cannot_link.add(pair)
                found.must_link.discard(pair)
    return found


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)
