"""The versioned concept sets and score tables in `data/`, loaded into DuckDB as small lookup tables."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import orjson

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"


@cache
def data_file(name: str) -> bytes:
    return resources.files("joinedup.population").joinpath("data", name).read_bytes()


def data_json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(data_file(name))
    return loaded


def versions() -> dict[str, str]:
    """Each score table's name and version, recorded beside the scores they produced."""
    found = {
        doc["name"]: doc["version"]
        for doc in map(data_json, ("efi_deficits.json", "long_term_conditions.json", "charlson_quan.json"))
    }
    found["hfrs-gilbert-2018"] = "1"
    return found


def hfrs_weights() -> list[tuple[str, float]]:
    lines = [line for line in data_file("hfrs_weights.csv").decode().splitlines() if not line.startswith("#")]
    return [(row["icd10_3char"], float(row["weight"])) for row in csv.DictReader(io.StringIO("\n".join(lines)))]


def efi_rows() -> list[tuple[str, str]]:
    """(deficit, SNOMED CT code)."""
    return [(d["deficit"], code[0]) for d in data_json("efi_deficits.json")["deficits"] for code in d["snomed"]]


def ltc_rows() -> list[tuple[str, str, str]]:
    """(condition, code system, code or ICD-10 prefix)."""
    ltc = data_json("long_term_conditions.json")
    rows = [(c["condition"], SNOMED, code) for c in ltc["conditions"] for code in c["snomed"]]
    return rows + [(c["condition"], ICD10, prefix) for c in ltc["conditions"] for prefix in c["icd10_prefixes"]]


def charlson_rows() -> list[tuple[str, int, str]]:
    """(category, weight, ICD-10 prefix)."""
    charlson = data_json("charlson_quan.json")
    return [(c["category"], c["weight"], p) for c in charlson["categories"] for p in c["icd10_prefixes"]]


def charlson_hierarchy() -> list[tuple[str, str]]:
    """(severe, mild): the milder category is dropped when the severer is present."""
    return [(h[0], h[1]) for h in data_json("charlson_quan.json")["hierarchy"]]


# name -> (columns as DuckDB DDL, the rows): the same tables on DuckDB and on Spark.
def code_tables() -> dict[str, tuple[str, list[tuple[object, ...]]]]:
    return {
        "efi_code": ("deficit VARCHAR, code VARCHAR", list(efi_rows())),
        "ltc_code": ("condition VARCHAR, system VARCHAR, code VARCHAR", list(ltc_rows())),
        "charlson_code": ("category VARCHAR, weight INTEGER, prefix VARCHAR", list(charlson_rows())),
        "charlson_hierarchy": ("severe VARCHAR, mild VARCHAR", list(charlson_hierarchy())),
        "hfrs_weight": ("icd3 VARCHAR, weight DOUBLE", list(hfrs_weights())),
    }


def load_code_sets(con: duckdb.DuckDBPyConnection) -> None:
    for name, (columns, rows) in code_tables().items():
        con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
        marks = ", ".join("?" for _ in columns.split(","))
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
