"""`joinedup load`: ndjson and Bundles, idempotent, resumable, every reject reported; the Synthea sample loads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
from sqlalchemy import func, select

from joinedup.fhir.references import parse_reference, reference_holders
from joinedup.store.bulk_load import Loader
from joinedup.store.context import SYSTEM
from joinedup.store.fhir_store import FhirStore
from joinedup.store.schema import resource_versions, resources

from ..conftest import shared_path
from ..fixtures import condition, patient


def _write_feed(folder: Path, name: str, lines: list[bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _counts(store: FhirStore) -> tuple[int, int]:
    with store.reading() as conn:
        current = conn.execute(select(func.count()).select_from(resources)).scalar_one()
        versions = conn.execute(select(func.count()).select_from(resource_versions)).scalar_one()
    return current, versions


def test_ndjson_load_is_idempotent_and_reports_rejects(store: FhirStore, tmp_path: Path) -> None:
    feed = tmp_path / "feeds" / "gp"
    lines = [orjson.dumps(patient(f"p{n}")) for n in range(30)]
    lines.insert(5, b'{"resourceType": "Patient", "id": "broken"')
    lines.insert(9, orjson.dumps({**patient("bad-nhs", nhs="9434765918")}))
    lines.insert(12, b"   ")  # blank lines are skipped, but still counted in line numbers
    lines.append(b'{"resourceType": "Patient", "gender": 5}')
    _write_feed(feed, "Patient.ndjson", lines)
    report = Loader(store, workers=1).load([tmp_path / "feeds"])
    assert report.created == 30
    assert [r.where.rsplit(":", 1)[1] for r in report.rejected] == ["6", "10", str(len(lines))]
    assert "Patient.gender" in report.rejected[2].reason
    assert "malformed JSON" in report.rejected[0].reason
    assert "Modulo 11" in report.rejected[1].reason
    before = _counts(store)

    again = Loader(store, workers=1).load([tmp_path / "feeds"])
    assert again.created == 0 and again.unchanged == 30
    assert _counts(store) == before
    stored = store.read(SYSTEM, "Patient", "p3").content
    assert stored is not None and stored["meta"]["source"] == "https://joinedup.example/source/gp"


def test_a_rerun_after_an_interruption_completes_without_duplicates(store: FhirStore, tmp_path: Path) -> None:
    feed = tmp_path / "feeds" / "acute"
    _write_feed(feed, "Patient.ndjson", [orjson.dumps(patient(f"p{n}")) for n in range(10)])
    _write_feed(feed, "Condition.ndjson", [orjson.dumps(condition(f"c{n}", f"p{n}", "1")) for n in range(10)])
    Loader(store, workers=1).load([feed / "Condition.ndjson"])  # as if stopped after the first file
    report = Loader(store, workers=1).load([feed])
    assert report.created == 10 and report.unchanged == 10
    assert _counts(store) == (20, 20)


def test_changed_content_makes_a_new_version(store: FhirStore, tmp_path: Path) -> None:
    feed = tmp_path / "feeds" / "gp"
    _write_feed(feed, "Patient.ndjson", [orjson.dumps(patient("p1", family="Smith"))])
    Loader(store, workers=1).load([feed])
    _write_feed(feed, "Patient.ndjson", [orjson.dumps(patient("p1", family="Smyth"))])
    report = Loader(store, workers=2).load([feed])
    assert report.updated == 1
    assert store.read(SYSTEM, "Patient", "p1").version_id == 2


def test_a_batch_of_several_types_sharing_ids_keeps_each_resource_apart(store: FhirStore, tmp_path: Path) -> None:
    """The writer looks up what is already stored one resource type at a time: a Patient and a Condition that
    share an id in one batch must each find their own row (and never each other's)."""
    feed = tmp_path / "feeds" / "gp"
    mixed = [orjson.dumps(patient(f"x{n}")) for n in range(5)] + [
        orjson.dumps(condition(f"x{n}", f"x{n}", "1")) for n in range(5)
    ]
    _write_feed(feed, "mixed.ndjson", mixed)
    assert Loader(store, workers=1).load([feed]).created == 10
    _write_feed(feed, "mixed.ndjson", [*mixed[:7], orjson.dumps(condition("x2", "x2", "2")), *mixed[8:]])
    report = Loader(store, workers=1).load([feed])
    assert (report.created, report.updated, report.unchanged) == (0, 1, 9)
    assert store.read(SYSTEM, "Condition", "x2").version_id == 2
    assert store.read(SYSTEM, "Patient", "x2").version_id == 1
    assert _counts(store) == (10, 11)


def test_synthea_sample_loads_completely(store: FhirStore) -> None:
    folder = shared_path("data", "synthea")
    files = sorted(folder.glob("*.json"))
    expected: dict[str, set[str]] = {}
    for path in files:
        for entry in json.loads(path.read_text())["entry"]:
            resource = entry["resource"]
            expected.setdefault(resource["resourceType"], set()).add(resource["id"])
    report = Loader(store, workers=1).load(files)
    assert report.rejected == []
    with store.reading() as conn:
        rows = conn.execute(select(resources.c.resource_type, resources.c.content)).all()
    assert Counter(r.resource_type for r in rows) == {t: len(ids) for t, ids in expected.items()}
    stored = {(r.resource_type, orjson.loads(r.content)["id"]) for r in rows}
    unresolved = []
    for row in rows:
        for location, holder in reference_holders(orjson.loads(row.content), row.resource_type):
            text = str(holder["reference"])
            if text.startswith("#"):
                continue
            parsed = parse_reference(text)
            if parsed is None or (parsed.resource_type, parsed.resource_id) not in stored:
                unresolved.append((location, text))
    assert unresolved == []
    again = Loader(store, workers=1).load(files)
    assert again.created == 0 and again.rejected == []
