"""The loader's workers serialise each resource ahead of the writer (store/bulk_writer.py StampedBody); the writer
puts in the version and the instant. What it stores must be byte for byte what stamping and serialising in the
writer made, or a re-load would see changed content and reads would differ from the single-write path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.fhir import dates
from joinedup.store.bulk_writer import Prepared, StampedBody
from joinedup.store.indexer import index_rows
from joinedup.store.writer import content_hash, stamp

from ..fixtures import condition, patient


def _moment() -> int:
    return dates.micros(dates.now_instant())


def _expected(resource: dict[str, Any], version_id: int, micros: int) -> bytes:
    return orjson.dumps(stamp(dict(resource), resource["id"], version_id, micros))


def _instant(micros: int) -> bytes:
    return dates.format_instant(dates.from_micros(micros)).encode()


RESOURCES = [
    patient("p.1-a"),
    condition("c1", "p1", "1"),
    {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": 'a "quoted" — reading'}},
    {
        "resourceType": "Patient",
        "id": "with-meta",
        "meta": {
            "versionId": "7",
            "lastUpdated": "2020-01-01T00:00:00Z",
            "source": "https://joinedup.example/source/gp",
            "tag": [{"system": "http://example.org/t", "code": "x"}],
            "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
        },
        "gender": "female",
    },
    {"resourceType": "Basic", "id": "b1", "code": {"text": '"meta":{"versionId":"0","lastUpdated":"'}},
]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r['resourceType']}/{r['id']}")
@pytest.mark.parametrize("version_id", [1, 2, 12, 1234])
def test_the_stamped_body_is_what_the_writer_would_have_serialised(resource: dict[str, Any], version_id: int) -> None:
    micros = _moment()
    before = orjson.dumps(resource)
    body = StampedBody.of(resource)
    assert orjson.dumps(resource) == before, "the caller's resource is left as it was"
    assert body.stamped(version_id, _instant(micros)) == _expected(resource, version_id, micros)


@given(
    text=st.text(max_size=40),
    family=st.text(min_size=1, max_size=20),
    version_id=st.integers(min_value=1, max_value=10**6),
    micros=st.integers(min_value=0, max_value=4_000_000_000_000_000),
)
def test_any_text_and_moment_round_trip(text: str, family: str, version_id: int, micros: int) -> None:
    resource = {**patient("p1", family=family), "text": {"status": "generated", "div": text}}
    body = StampedBody.of(resource)
    stored = body.stamped(version_id, _instant(micros))
    assert stored == _expected(resource, version_id, micros)
    assert orjson.loads(stored)["meta"]["versionId"] == str(version_id)


def test_prepared_carries_the_key_source_and_hash() -> None:
    resource = RESOURCES[3]
    made = Prepared.of(resource)
    assert (made.resource_type, made.id, made.source) == ("Patient", "with-meta", "https://joinedup.example/source/gp")
    assert made.digest == content_hash(resource)
    by_dicts = index_rows(resource)
    assert made.index == {kind: [tuple(row.values()) for row in rows] for kind, rows in by_dicts.items()}
    assert ("Patient", "gender", "", "female", None) in made.index["token"]
