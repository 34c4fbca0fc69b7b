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


def load_code_sets(con: duckdb.DuckDBPyConnection) -> None:
    efi = data_json("efi_deficits.json")
    con.execute("CREATE OR REPLACE TABLE efi_code (deficit VARCHAR, code VARCHAR)")
    rows = [(d["deficit"], code[0]) for d in efi["deficits"] for code in d["snomed"]]
    con.executemany("INSERT INTO efi_code VALUES (?, ?)", rows)
    ltc = data_json("long_term_conditions.json")
    con.execute("CREATE OR REPLACE TABLE ltc_code (condition VARCHAR, system VARCHAR, code VARCHAR)")
    ltc_rows = [(c["condition"], SNOMED, code) for c in ltc["conditions"] for code in c["snomed"]]
    ltc_rows += [(c["condition"], ICD10, prefix) for c in ltc["conditions"] for prefix in c["icd10_prefixes"]]
    con.executemany("INSERT INTO ltc_code VALUES (?, ?, ?)", ltc_rows)
    charlson = data_json("charlson_quan.json")
    con.execute("CREATE OR REPLACE TABLE charlson_code (category VARCHAR, weight INTEGER, prefix VARCHAR)")
    rows3 = [(c["category"], c["weight"], p) for c in charlson["categories"] for p in c["icd10_prefixes"]]
    con.executemany("INSERT INTO charlson_code VALUES (?, ?, ?)", rows3)
    con.execute("CREATE OR REPLACE TABLE charlson_hierarchy (severe VARCHAR, mild VARCHAR)")
    con.executemany("INSERT INTO charlson_hierarchy VALUES (?, ?)", [tuple(h) for h in charlson["hierarchy"]])
    con.execute("CREATE OR REPLACE TABLE hfrs_weight (icd3 VARCHAR, weight DOUBLE)")
    con.executemany("INSERT INTO hfrs_weight VALUES (?, ?)", hfrs_weights())
