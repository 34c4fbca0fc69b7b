"""The views' fast path: R4 cardinality turns 0..1 chains into one JSON path, and ndjson read in place gives the
same tables as the loaded `resources` table (and as the generic plan, which the conformance suite covers)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import orjson

from joinedup.population.loading import NdjsonSource
from joinedup.population.sof.duckdb_runner import load_resources
from joinedup.population.sof.elements import element
from joinedup.population.sof.views import compile_view
from joinedup.population.views_catalogue import VIEW_NAMES, build_views

from .people import place


def test_cardinality_comes_from_the_r4_definitions() -> None:
    repeating = element("Encounter", "type")
    assert repeating is not None and repeating.repeats and repeating.type_name == "CodeableConcept"
    found = element("Encounter", "subject")
    assert found is not None and not found.repeats and found.type_name == "Reference"
    assert element("Encounter", "notAnElement") is None
    assert element("NotAType", "id") is None


def test_a_chain_of_single_elements_is_one_json_path() -> None:
    view = {
        "resource": "Encounter",
        "select": [
            {"column": [{"name": "who", "path": "subject.reference"}, {"name": "t", "path": "type.coding.code"}]}
        ],
    }
    sql = compile_view(view).sql
    assert "'$.subject.reference'" in sql
    # A repeating step unnests: every code of every coding of every type, from one extracted element.
    assert "'$[*].coding[*].code'" in sql


def test_an_unknown_shape_keeps_the_generic_plan() -> None:
    view = {"resource": "NotAType", "select": [{"column": [{"name": "x", "path": "a.b"}]}]}
    assert "json_type" in compile_view(view).sql


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(con.execute(f"SELECT * FROM v_{name}").fetchall(), key=repr) for name in VIEW_NAMES}


def test_ndjson_read_in_place_gives_the_same_views_as_the_loaded_table(tmp_path: Path) -> None:
    resources = place()
    by_type: dict[str, list[bytes]] = defaultdict(list)
    for resource in resources:
        by_type[resource["resourceType"]].append(orjson.dumps(resource))
    (tmp_path / "gp").mkdir()
    for resource_type, lines in by_type.items():
        (tmp_path / "gp" / f"{resource_type}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    loaded, in_place = duckdb.connect(), duckdb.connect()
    load_resources(loaded, resources)
    counts = build_views(loaded)
    assert build_views(in_place, source=NdjsonSource(tmp_path)) == counts
    assert counts["patient"] > 0 and counts["condition"] > 0
    assert _tables(in_place) == _tables(loaded)
