"""`joinedup identity link`: link every stored source Patient and write the person index back as FHIR resources.

Reads through the gate as the system, trains the model on the place's own data the first time (kept as a Binary,
so later runs and incremental matching use the same weights), runs the batch linkage with reviewers' decisions as
constraints, then writes only what differs from the stored index: a Person per human (Person.link to each source
Patient), a Provenance for each link that joined a record to its Person (the engine as agent, field-by-field
weights), a Task per pair for review. A re-run against unchanged data writes nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from joinedup.fhir import dates

from .backends import Backend
from .batch import BatchResult, link_batch
from .decisions import Method, Outcome, PairDecision, Thresholds
from .human_decisions import Constraints, constraints_from
from .index_store import IndexStore, linkage_record, model_version
from .model import LinkageModel
from .record import LinkageRecord
from .resources import (
    Activity,
    Agent,
    Assurance,
    PersonState,
    Resource,
    ReviewItem,
    ReviewStatus,
    derived_id,
    person_resource,
    provenance_resource,
    review_id,
    task_resource,
)

# phase, how many more done, total (None while unknown)
Progress = Callable[[str, int, int | None], None]


def _no_progress(_phase: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class LinkReport:
    records: int = 0
    persons: int = 0
    linked_records: int = 0  # records sharing their Person with another record
    review_items: int = 0
    records_in_review: int = 0
    persons_written: int = 0
    provenances_written: int = 0
    tasks_written: int = 0
    trained: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Plan:
    persons: dict[str, PersonState]
    link_edges: dict[str, list[PairDecision]]  # person id → decisions whose links hold it together
    reviews: list[tuple[ReviewItem, PairDecision | None]]


class BatchLinker:
    def __init__(
        self,
        store: IndexStore,
        thresholds: Thresholds | None = None,
        backend: Callable[[], Backend] | None = None,
        progress: Progress = _no_progress,
    ) -> None:
        self.store = store
        self.thresholds = thresholds or Thresholds()
        self.backend = backend
        self.progress = progress

    def run(self, retrain: bool = False) -> LinkReport:
        report = LinkReport()
        clock = time.perf_counter()
        patients = self.store.source_patients(lambda n, total: self.progress("read", n, total))
        records = [linkage_record(p) for p in patients]
        del patients
        report.records = len(records)
        existing = self.store.persons()
        constraints = constraints_from(self.store.human_decisions())
        open_reviews = {r.id: r for r in self.store.reviews(ReviewStatus.OPEN)}
        decided_reviews = {r.id for r in self.store.reviews(None)} - set(open_reviews)
        report.seconds["read"] = time.perf_counter() - clock

        clock = time.perf_counter()
        model = None if retrain else self.store.model()
        if model is None:
            self.progress("train", 0, 1)
            model = LinkageModel.train(records, backend=self.backend() if self.backend else None)
            self.store.save_model(model)
            report.trained = True
            self.progress("train", 1, 1)
        report.seconds["train"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self.progress("link", 0, 1)
        result = self._link(records, model, existing, constraints)
        plan = _plan(records, result, constraints, decided_reviews)
        self.progress("link", 1, 1)
        report.seconds["link"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self._write(plan, existing, open_reviews, model, report)
        report.seconds["write"] = time.perf_counter() - clock

        clock = time.perf_counter()
        stamp = self.store.model_stamp()
        if stamp is not None:
            self.store.candidate_keys(model).rebuild(records, stamp)
        report.seconds["candidate keys"] = time.perf_counter() - clock
        report.persons = len(plan.persons)
        report.linked_records = sum(len(p.links) for p in plan.persons.values() if len(p.links) > 1)
        report.review_items = len(plan.reviews)
        report.records_in_review = len({pid for item, _ in plan.reviews for pid in (item.patient_id,)})
        return report

    def _link(
        self,
        records: Sequence[LinkageRecord],
        model: LinkageModel,
        existing: dict[str, PersonState],
        constraints: Constraints,
    ) -> BatchResult:
        key_of = {r.patient_id: r.key for r in records}
        previous = {key_of[pid]: p.id for p in existing.values() if p.active for pid in p.links if pid in key_of}
        must, cannot = constraints.keyed(key_of)
        backend = self.backend() if self.backend else None
        return link_batch(records, model, self.thresholds, backend, previous, must, cannot)

    def _write(
        self,
        plan: _Plan,
        existing: dict[str, PersonState],
        open_reviews: dict[str, ReviewItem],
        model: LinkageModel,
        report: LinkReport,
    ) -> None:
        now = dates.format_instant(dates.now_instant())
        agent = Agent.engine(model_version(model), model.nickname_version)
        version = model_version(model)
        bundles: list[list[Resource]] = []
        pending: list[Resource] = []

        def add(*resources: Resource) -> None:
            pending.extend(resources)
            if len(pending) >= self.store_chunk:
                bundles.append(list(pending))
                pending.clear()

        for person_id, state in sorted(plan.persons.items()):
            before = existing.get(person_id)
            if before is not None and before == state:
                continue
            report.persons_written += 1
            new_links = set(state.links) - (set(before.links) if before and before.active else set())
            provenances = [
                _link_provenance(person_id, d, agent, version, now)
                for d in plan.link_edges.get(person_id, [])
                if _pid(d.left) in new_links or _pid(d.right) in new_links
            ]
            report.provenances_written += len(provenances)
            add(person_resource(state), *provenances)
        for person_id, before in sorted(existing.items()):
            if person_id not in plan.persons and before.active:
                report.persons_written += 1  # its records now belong to other Persons: kept, inactive, for history
                add(person_resource(PersonState(person_id, {}, active=False)))
        if pending:
            bundles.append(list(pending))
            pending.clear()
        wanted = {item.id for item, _ in plan.reviews}
        for item, decision in plan.reviews:
            if item.id in open_reviews:
                continue
            provenance_id = derived_id("review", item.id, version)
            pids = [p for p in (item.patient_id, item.candidate_id) if p]
            targets = [f"Task/{item.id}"]
            provenance = provenance_resource(
                provenance_id, Activity.REVIEW, agent, targets, pids, now, item.reason, decision
            )
            task = task_resource(_with_provenance(item, provenance_id), now)
            report.tasks_written += 1
            report.provenances_written += 1
            add(task, provenance)
        for review in open_reviews.values():
            if review.id not in wanted:  # the records were joined or parted since: nobody needs to look now
                report.tasks_written += 1
                add(task_resource(_superseded(review), now))
        if pending:
            bundles.append(list(pending))
        total = sum(len(b) for b in bundles)
        self.progress("write", 0, total)
        for bundle in bundles:
            self.store.write_batch(bundle)
            self.progress("write", len(bundle), total)

    store_chunk = 2000


def _pid(record_key: str) -> str:
    return record_key.split("|", 1)[1]


def _with_provenance(item: ReviewItem, provenance_id: str) -> ReviewItem:
    return ReviewItem(
        item.id, item.patient_id, item.candidate_id, item.method, item.match_probability, item.reason,
        item.status, provenance_id,
    )  # fmt: skip


def _superseded(item: ReviewItem) -> ReviewItem:
    return ReviewItem(
        item.id, item.patient_id, item.candidate_id, item.method, item.match_probability,
        item.reason, ReviewStatus.SUPERSEDED, item.provenance_id,
    )  # fmt: skip


def _link_provenance(person_id: str, decision: PairDecision, agent: Agent, version: str, now: str) -> Resource:
    left, right = _pid(decision.left), _pid(decision.right)
    provenance_id = derived_id("link", person_id, left, right, decision.method.value, version)
    return provenance_resource(
        provenance_id, Activity.LINK, agent, [f"Person/{person_id}"], [left, right], now, decision.reason, decision
    )


def _plan(
    records: Sequence[LinkageRecord], result: BatchResult, constraints: Constraints, decided_reviews: set[str]
) -> _Plan:
    members: dict[str, list[str]] = defaultdict(list)
    for key, person_id in result.persons.items():
        members[person_id].append(key)
    links = [d for d in result.decisions if d.outcome is Outcome.LINK]
    edges = _spanning_edges(members, links, result.persons)
    reviews = _reviews(records, result, constraints, decided_reviews)
    in_review = {item.patient_id for item, _ in reviews} | {
        item.candidate_id for item, _ in reviews if item.candidate_id
    }
    persons: dict[str, PersonState] = {}
    for person_id, keys in members.items():
        strength = _assurance(keys, edges.get(person_id, []), constraints)
        links_of = {_pid(k): strength[k] for k in keys}
        if len(keys) == 1 and _pid(keys[0]) in in_review:
            links_of = {_pid(keys[0]): Assurance.AWAITING_REVIEW}
        persons[person_id] = PersonState(person_id, links_of)
    return _Plan(persons, edges, reviews)


def _spanning_edges(
    members: dict[str, list[str]],
    links: Iterable[PairDecision],
    persons: dict[str, str],
) -> dict[str, list[PairDecision]]:
    """Per Person, the strongest links that hold it together (a spanning forest): one Provenance each, rather
    than one for every pair a large cluster contains."""
    by_person: dict[str, list[PairDecision]] = defaultdict(list)
    for decision in links:
        person = persons.get(decision.left)
        if person is not None and person == persons.get(decision.right):
            by_person[person].append(decision)
    chosen: dict[str, list[PairDecision]] = {}
    for person, decisions in by_person.items():
        decisions.sort(key=lambda d: (d.method is not Method.DETERMINISTIC, -d.match_probability, d.left, d.right))
        parent = {k: k for k in members[person]}

        def find(key: str, parent: dict[str, str] = parent) -> str:
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        kept: list[PairDecision] = []
        for decision in decisions:
            a, b = find(decision.left), find(decision.right)
            if a != b:
                parent[a] = b
                kept.append(decision)
        chosen[person] = kept
    return chosen


def _assurance(keys: list[str], edges: list[PairDecision], constraints: Constraints) -> dict[str, Assurance]:
    """level4 for the deterministic rule or a reviewer's join (and a record alone), level3 for a probabilistic link."""
    if len(keys) == 1:
        return {keys[0]: Assurance.CONFIRMED}
    strength = {k: Assurance.PROBABLE for k in keys}
    for decision in edges:
        if decision.method is Method.DETERMINISTIC:
            strength[decision.left] = strength[decision.right] = Assurance.CONFIRMED
    key_of = {_pid(k): k for k in keys}
    for a, b in constraints.must_link:
        if a in key_of and b in key_of:
            strength[key_of[a]] = strength[key_of[b]] = Assurance.CONFIRMED
    return strength


def _reviews(
    records: Sequence[LinkageRecord], result: BatchResult, constraints: Constraints, decided_reviews: set[str]
) -> list[tuple[ReviewItem, PairDecision | None]]:
    """One review item per pair of Persons the model could not decide (the best pair between them), and one for
    each record too sparse to match that has no candidate at all."""
    best: dict[tuple[str, str], PairDecision] = {}
    for decision in result.review_queue():
        a, b = result.persons[decision.left], result.persons[decision.right]
        if a == b or constraints.decided(_pid(decision.left), _pid(decision.right)):
            continue
        pair = (a, b) if a <= b else (b, a)
        if pair not in best or decision.match_probability > best[pair].match_probability:
            best[pair] = decision
    items: list[tuple[ReviewItem, PairDecision | None]] = []
    for decision in sorted(best.values(), key=lambda d: (d.left, d.right)):
        left, right = _pid(decision.left), _pid(decision.right)
        item_id = review_id(left, right)
        if item_id not in decided_reviews:
            item = ReviewItem(item_id, left, right, decision.method, decision.match_probability, decision.reason)
            items.append((item, decision))
    paired = {k for d in result.decisions for k in (d.left, d.right)}
    for record in records:
        if record.sparse and record.key not in paired:
            item_id = review_id(record.patient_id, None)
            if item_id not in decided_reviews:
                reason = "too sparse to match: no candidate found"
                items.append((ReviewItem(item_id, record.patient_id, None, Method.SPARSE, 0.0, reason), None))
    return items
