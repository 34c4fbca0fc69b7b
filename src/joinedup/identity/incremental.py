"""Matching one arriving record against the existing index, as it is written or loaded.

Candidates come from a `CandidateSource` — here an in-memory blocking index keyed like the batch blocking rules;
the store's search index can stand behind the same protocol later — and are scored in Python with the trained
model's weights (`scoring`), then decided with the same thresholds as the batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import blocking
from .clusters import new_person_id
from .decisions import Outcome, RecordDecision, Thresholds, decide_pair, decide_record
from .record import LinkageRecord
from .scoring import ScoringModel


class CandidateSource(Protocol):
    """Finds the records worth comparing with a new one, and remembers records once placed."""

    def candidates(self, record: LinkageRecord) -> list[LinkageRecord]: ...

    def add(self, record: LinkageRecord, person_id: str) -> None: ...

    def person_of(self, record_key: str) -> str | None: ...

    def person_ids(self) -> set[str]: ...


class BlockingIndex:
    """In-memory candidate look-up: (blocking key, value) → record keys, for the model's prediction keys."""

    def __init__(self, keys: Sequence[blocking.BlockingKey] = blocking.PREDICTION_KEYS) -> None:
        self.keys = tuple(keys)
        self._buckets: dict[tuple[int, tuple[str, ...]], list[str]] = defaultdict(list)
        self._records: dict[str, LinkageRecord] = {}
        self._persons: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: LinkageRecord, person_id: str) -> None:
        if record.key in self._records:
            raise ValueError(f"record {record.key} is already in the index")
        self._records[record.key] = record
        self._persons[record.key] = person_id
        for index, key in enumerate(self.keys):
            value = blocking.key_value(key, record)
            if value is not None:
                self._buckets[(index, value)].append(record.key)

    def add_all(self, placed: Iterable[tuple[LinkageRecord, str]]) -> None:
        for record, person_id in placed:
            self.add(record, person_id)

    def candidates(self, record: LinkageRecord) -> list[LinkageRecord]:
        found: dict[str, LinkageRecord] = {}
        for index, key in enumerate(self.keys):
            value = blocking.key_value(key, record)
            if value is None:
                continue
            for other in self._buckets.get((index, value), ()):
                if other != record.key:
                    found.setdefault(other, self._records[other])
        return list(found.values())

    def person_of(self, record_key: str) -> str | None:
        return self._persons.get(record_key)

    def person_ids(self) -> set[str]:
        return set(self._persons.values())


@dataclass(frozen=True)
class Placement:
    """The decision for an arriving record and the person it now belongs to (a new one unless linked)."""

    decision: RecordDecision
    person_id: str


class IncrementalMatcher:
    """Scores one record against its candidates and places it: link to a person, review, or a new person."""

    def __init__(self, scorer: ScoringModel, index: CandidateSource, thresholds: Thresholds | None = None) -> None:
        self.scorer = scorer
        self.index = index
        self.thresholds = thresholds or Thresholds()

    def decide(self, record: LinkageRecord) -> RecordDecision:
        """The decision for the record against the current index, without changing the index."""
        pairs = [
            decide_pair(record, candidate, self.scorer.score(record, candidate), self.thresholds)
            for candidate in self.index.candidates(record)
        ]
        return decide_record(record, pairs)

    def place(self, record: LinkageRecord) -> Placement:
        """Decide and add the record to the index. Review and new-person records get a person of their own until a
        reviewer links them."""
        decision = self.decide(record)
        person: str | None = None
        if decision.outcome is Outcome.LINK and decision.best is not None:
            person = self.index.person_of(decision.best.right)
        if person is None:
            person = new_person_id([record.key], self.index.person_ids())
        self.index.add(record, person)
        return Placement(decision, person)
