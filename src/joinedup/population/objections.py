"""Secondary use honours objections: people who objected are left out of every population figure (decision 0403).

The population refresh is secondary use (planning, risk stratification, case finding), so it honours the same
objections as the API's secondary use (`access.visibility.SecondaryUseVisibility`, decision 0330): an active
Consent whose category is an opt-out of secondary use (national data opt-out style) or an objection to sharing
(`access.consent_codes`). The API decides per source record; the refresh counts people, so an objection on any
one of a person's records withholds the whole person (every record the person index, or the NHS number fallback,
joins to theirs) and the records the objection names directly.

It runs once, right after persons are linked (`refresh.refresh`, `spark_refresh.spark_refresh`) and before any
figure is computed: every view keeps only the rows of records not withheld (its `patient_id`), and `person_map`
and `person` only the people not withheld, so the scores, the model, the segments, the trends, the case-finding
lists, the CSV download and the pages all leave them out without each having to remember to.
"""

from __future__ import annotations

import duckdb

from joinedup.access.consent_codes import CONSENT_CATEGORY, OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE

from .sof.dialects import duckdb_string
from .views_catalogue import VIEW_NAMES, drop_relation

# The objections secondary use honours: the same two SecondaryUseVisibility holds back.
SECONDARY_USE_OBJECTIONS = (OPTS_OUT_OF_SECONDARY_USE, OBJECTS_TO_SHARING)
PATIENT_COLUMN = "patient_id"  # every view names the source record its row comes from


def _objection_codes() -> str:
    return ", ".join(duckdb_string(code) for code in SECONDARY_USE_OBJECTIONS)


def objection_statements() -> list[str]:
    """The tables of who is withheld, and `person_map`/`person` without them: `CREATE OR REPLACE TABLE` statements
    written to read alike on DuckDB and (transpiled) on Spark. Run after `persons.build_persons`."""
    objected_records = (
        f"SELECT DISTINCT patient_id FROM v_consent WHERE status = 'active' AND patient_id IS NOT NULL "
        f"AND category_system = {duckdb_string(CONSENT_CATEGORY)} AND category_code IN ({_objection_codes()})"
    )
    return [
        f"""CREATE OR REPLACE TABLE secondary_use_objector AS
        SELECT DISTINCT m.person_id FROM person_map m JOIN ({objected_records}) o ON o.patient_id = m.patient_id""",
        f"""CREATE OR REPLACE TABLE withheld_record AS
        SELECT m.patient_id FROM person_map m JOIN secondary_use_objector o ON o.person_id = m.person_id
        UNION
        SELECT patient_id FROM ({objected_records}) named""",
        """CREATE OR REPLACE TABLE person_map AS
        SELECT * FROM person_map WHERE person_id NOT IN (SELECT person_id FROM secondary_use_objector)""",
        """CREATE OR REPLACE TABLE person AS
        SELECT * FROM person WHERE person_id NOT IN (SELECT person_id FROM secondary_use_objector)""",
    ]


def kept_rows(relation: str) -> str:
    """The rows of a view's relation that are not of a withheld record (a row about no record is kept: it concerns
    no one who could have objected, as in the API)."""
    return (
        f"SELECT * FROM {relation} WHERE {PATIENT_COLUMN} IS NULL "
        f"OR {PATIENT_COLUMN} NOT IN (SELECT patient_id FROM withheld_record)"
    )


def withhold_objectors(con: duckdb.DuckDBPyConnection) -> int:
    """Leave every person who objected to secondary use out of the views and the person tables; returns how many
    people were withheld (a count for the refresh's report, never who)."""
    for statement in objection_statements():
        con.execute(statement)
    for name in VIEW_NAMES:
        _withhold_from_view(con, f"v_{name}")
    row = con.execute("SELECT count(*) FROM secondary_use_objector").fetchone()
    return int(row[0]) if row else 0


def _withhold_from_view(con: duckdb.DuckDBPyConnection, name: str) -> None:
    columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
    if PATIENT_COLUMN not in columns:
        raise ValueError(f"{name} has no {PATIENT_COLUMN}: objections could not be honoured in it")
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
    ).fetchone()
    if kind is not None and kind[0] == "VIEW":
        # The incremental extract (extract.py) keeps the rows in x_<view>, for the next refresh to re-read only
        # changed files; the view over them is redefined to leave the withheld records out.
        listed = ", ".join(f'"{column}"' for column in columns)
        drop_relation(con, name)
        con.execute(f"CREATE VIEW {name} AS SELECT {listed} FROM ({kept_rows('x_' + name[2:])})")
        return
    con.execute(f"DELETE FROM {name} WHERE {PATIENT_COLUMN} IN (SELECT patient_id FROM withheld_record)")
