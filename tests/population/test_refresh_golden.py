"""Golden results on hand-built people: every score, the persons, segments and case-finding exclusions."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from joinedup.population.case_finding import case_finding_csv
from joinedup.population.refresh import refresh
from joinedup.population.sof.duckdb_runner import load_resources

from .people import ANN, place


@pytest.fixture(scope="module")
def refreshed() -> Any:
    con = duckdb.connect()
    load_resources(con, place())
    report = refresh(con, date(2024, 12, 31))
    yield con, report
    con.close()


def _ann(con: duckdb.DuckDBPyConnection, column: str) -> Any:
    row = con.execute(
        f"SELECT f.{column} FROM person_features f JOIN person_map m USING (person_id) "
        "WHERE m.patient_id = 'gp-ann' AND f.index_date = DATE '2024-12-31'"
    ).fetchone()
    assert row is not None
    return row[0]


def test_source_records_with_one_valid_nhs_number_are_one_person(refreshed: Any) -> None:
    con, _ = refreshed
    assert con.execute("SELECT count(*) FROM person").fetchone() == (4,)
    ids = con.execute("SELECT DISTINCT person_id FROM person_map WHERE patient_id LIKE '%-ann'").fetchall()
    assert len(ids) == 1 and ANN not in ids[0][0]  # pseudonymous key, not the NHS number


def test_efi_counts_deficits_recorded_by_the_index_date(refreshed: Any) -> None:
    con, _ = refreshed
    # hypertension, diabetes, heart failure, visual impairment, falls, polypharmacy (5 medicines this year)
    assert _ann(con, "efi_deficits") == 6
    assert _ann(con, "efi_category") == "mild"


def test_hfrs_sums_distinct_icd10_weights_over_two_years(refreshed: Any) -> None:
    con, _ = refreshed
    assert _ann(con, "hfrs") == pytest.approx(6.4)  # W19 3.2 + F05 3.2; I50 and C78 carry no weight
    assert _ann(con, "hfrs_band") == "intermediate"


def test_charlson_and_long_term_conditions(refreshed: Any) -> None:
    con, _ = refreshed
    assert _ann(con, "charlson") == 8  # heart failure 1 + diabetes 1 + metastatic tumour 6
    assert _ann(con, "ltc_count") == 3
    assert _ann(con, "emergency_admissions_24m") == 2


def test_the_dead_are_not_residents_and_objectors_are_not_case_found(refreshed: Any) -> None:
    con, report = refreshed
    assert report.model.test_people == 3  # Carol died in June 2024
    listed = case_finding_csv(con)
    people = con.execute("SELECT m.patient_id FROM case_finding JOIN person_map m USING (person_id)").fetchall()
    assert {p for (p,) in people} == {"gp-ann", "acute-ann", "gp-dan"}
    assert listed.splitlines()[0].startswith("neighbourhood,rank,person_id")


def test_every_adult_has_a_level_and_a_reason(refreshed: Any) -> None:
    con, _ = refreshed
    rows = con.execute("SELECT level, reason FROM segment").fetchall()
    assert len(rows) == 3 and all(level in (1, 2, 3, 4) and reason for level, reason in rows)
