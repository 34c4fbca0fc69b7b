"""Case-finding lists for each neighbourhood's multi-disciplinary group (MDG).

The people at highest emergency admission risk who are alive, not on a community, mental health or social care
caseload, and have not objected. An objection is a FHIR Consent on any of the person's records with status
active and provision.type deny, read from the `consent` view directly until the information governance service
serves consent decisions (decision 0400).
"""

from __future__ import annotations

import csv
import io

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
