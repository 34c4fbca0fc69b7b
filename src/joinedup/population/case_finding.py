"""Case-finding lists for each neighbourhood's multi-disciplinary group (MDG).

The people at highest emergency admission risk who are alive, not on a community, mental health or social care
caseload, and have not objected. An objection is a FHIR Consent on any of the person's records with status
active and provision.type deny, read from the `consent` view directly until the information governance service
serves consent decisions (decision 0400).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

CSV_COLUMNS = ("neighbourhood", "rank", "person_id", "age", "practice_id", "level", "probability", "reasons")


def case_finding_sql(per_neighbourhood: int = 50) -> str:
    """The statement that builds `case_finding`: each neighbourhood's highest-risk people, with reasons."""
    return f"""
        CREATE OR REPLACE TABLE case_finding AS
        WITH objected AS (
            SELECT DISTINCT m.person_id FROM v_consent c JOIN person_map m USING (patient_id)
            WHERE c.status = 'active' AND c.provision_type = 'deny'),
        candidates AS (
            SELECT f.neighbourhood, f.person_id, f.age, f.practice_id, s.level, r.probability,
                   -- The model's factors and these two never share a wording, so nothing is listed twice.
                   list_concat(r.factors,
                       CASE WHEN f.efi_category IN ('moderate', 'severe')
                            THEN [f.efi_category || ' frailty'] ELSE [] END,
                       CASE WHEN f.emergency_admissions_12m > 0
                            THEN [f.emergency_admissions_12m || ' emergency admission(s) in the last year'] ELSE [] END
                   ) AS reasons,
                   row_number() OVER (PARTITION BY f.neighbourhood ORDER BY r.probability DESC, f.person_id) AS rank
            FROM person_features f JOIN risk r USING (person_id, index_date)
            LEFT JOIN segment s USING (person_id, index_date)
            JOIN person p USING (person_id)
            WHERE f.age >= 18 AND NOT f.on_caseload AND NOT f.care_home_resident
              AND (p.deceased_date IS NULL OR p.deceased_date > current_date)
              AND f.person_id NOT IN (SELECT person_id FROM objected))
        SELECT * FROM candidates WHERE rank <= {int(per_neighbourhood)} ORDER BY neighbourhood, rank
    """


def build_case_finding(con: duckdb.DuckDBPyConnection, per_neighbourhood: int = 50) -> None:
    con.execute(case_finding_sql(per_neighbourhood))


def case_finding_csv(con: duckdb.DuckDBPyConnection, neighbourhood: str | None = None) -> str:
    """The list (one neighbourhood or all) as CSV; reasons joined with '; '."""
    where, params = ("WHERE neighbourhood = ?", [neighbourhood]) if neighbourhood else ("", [])
    rows = con.execute(
        f"SELECT neighbourhood, rank, person_id, age, practice_id, level, round(probability, 4), "
        f"array_to_string(reasons, '; ') FROM case_finding {where} ORDER BY neighbourhood, rank",
        params,
    ).fetchall()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


# --- direct care (decision 0505) ---------------------------------------------------------------------------------
# The lists above name people by their pseudonymised person key, as analysts and the population pages see them.
# For direct care a multidisciplinary group sees the people on its own neighbourhood's list by name: the system
# (never a page) joins the list to `person_map`, whose `patient_id`s are the store's own record ids (the refresh read
# the store, or the same ndjson the store loaded, through the system's audited handle), and publishes them as a FHIR
# List the gate then makes a care relationship of (care/huddles/publication.py). Nothing here is shown to analysts.


@dataclass(frozen=True)
class DirectCareCandidate:
    """One person on a neighbourhood's case-finding list, with every source record of theirs."""

    rank: int
    patient_ids: tuple[str, ...]


@dataclass(frozen=True)
class PopulationFinding:
    """What the refresh found about the person a record belongs to, for the huddle page (direct care)."""

    level: int | None
    level_name: str
    probability: float
    reasons: tuple[str, ...]
    index_date: str


_TABLES = {"case_finding", "person_map", "risk", "segment"}


def _has_results(con: duckdb.DuckDBPyConnection) -> bool:
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return tables >= _TABLES


def direct_care_candidates(con: duckdb.DuckDBPyConnection, neighbourhood: str) -> list[DirectCareCandidate]:
    """A neighbourhood's case-finding list in rank order, each person with their source records' ids (empty when
    the refresh has not built the tables)."""
    if not _has_results(con):
        return []
    rows = con.execute(
        "SELECT c.rank, list_sort(list(m.patient_id)) FROM case_finding c JOIN person_map m USING (person_id) "
        "WHERE c.neighbourhood = ? GROUP BY c.rank, c.person_id ORDER BY c.rank",
        [neighbourhood],
    ).fetchall()
    return [DirectCareCandidate(int(rank), tuple(str(p) for p in ids)) for rank, ids in rows]


def read_direct_care_candidates(path: Path, neighbourhood: str) -> list[DirectCareCandidate]:
    """The same from the refresh's file, opened read-only (FileNotFoundError when there is none yet)."""
    with _results(path) as con:
        return direct_care_candidates(con, neighbourhood)


def population_findings(path: Path, patient_ids: Sequence[str]) -> dict[str, PopulationFinding]:
    """Patient id -> the person's level, risk and reasons at the latest index date, for the records asked about (the
    caller has already been shown them by the gate). Empty when there are no results."""
    if not patient_ids:
        return {}
    try:
        with _results(path) as con:
            if not _has_results(con):
                return {}
            rows = con.execute(
                "SELECT m.patient_id, s.level, s.level_name, r.probability, "
                "coalesce(c.reasons, r.factors), CAST(r.index_date AS VARCHAR) "
                "FROM person_map m JOIN risk r USING (person_id) "
                "LEFT JOIN segment s ON s.person_id = r.person_id AND s.index_date = r.index_date "
                "LEFT JOIN case_finding c ON c.person_id = r.person_id "
                "WHERE m.patient_id IN (SELECT unnest(?)) AND r.index_date = (SELECT max(index_date) FROM risk)",
                [list(patient_ids)],
            ).fetchall()
    except FileNotFoundError:
        return {}
    return {
        str(pid): PopulationFinding(
            None if level is None else int(level), str(name or ""), float(prob), tuple(reasons or ()), str(when)
        )
        for pid, level, name, prob, reasons, when in rows
    }


@contextmanager
def _results(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.is_file():
        raise FileNotFoundError(str(path))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:  # a refresh is writing the file (it holds DuckDB's lock)
        raise FileNotFoundError(str(path)) from error
    try:
        yield con
    finally:
        con.close()
