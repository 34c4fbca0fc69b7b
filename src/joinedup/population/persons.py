"""People, not source records: which source Patients are one person, and each person's demographics.

Person links from the identity service (Person.link) are used when any exist. Until then the fallback groups
source Patients by a valid NHS number (Modulo 11), and a record without one is its own person. The fallback
over-merges when a source holds another resident's valid number (the synthetic place seeds such errors on
purpose), which is why Person links take over as soon as they are present.
"""

from __future__ import annotations

import duckdb

# A valid NHS number: ten digits whose Modulo 11 check digit matches. Written out term by term (no lambdas) so
# that the same SQL runs on DuckDB and, transpiled, on Spark (spark_refresh.py).
_WEIGHTED = " + ".join(f"CAST(substr(nhs_number, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
_NHS_VALID = f"""
    regexp_matches(nhs_number, '^[0-9]{{10}}$') AND (
        (11 - (({_WEIGHTED}) % 11)) % 11
    ) = CAST(substr(nhs_number, 10, 1) AS INTEGER)
"""

PERSON_MAP = f"""
CREATE OR REPLACE TABLE person_map AS
WITH links AS (SELECT DISTINCT patient_id, person_id FROM v_person_link WHERE patient_id IS NOT NULL),
fallback AS (
    SELECT p.patient_id,
        CASE WHEN p.nhs_number IS NOT NULL AND {_NHS_VALID}
             THEN 'nhs-' || substr(md5(p.nhs_number), 1, 16) ELSE 'rec-' || p.patient_id END AS person_id
    FROM v_patient p
)
SELECT f.patient_id, coalesce(l.person_id, f.person_id) AS person_id,
       l.person_id IS NOT NULL AS linked_by_person_index
FROM fallback f LEFT JOIN links l USING (patient_id)
"""

# The GP record holds the traced demographics, so it is preferred; other sources fill gaps. Ties (two GP
# records of one person) go to the lower record id, so the result never depends on the order rows are read in.
_PREFERRED = "(CASE WHEN p.source LIKE '%/gp' THEN 0 ELSE 1 END, p.patient_id)"
# The neighbourhood is the postcode district (ZS1..ZS8 in the synthetic borough).
PERSON = f"""
CREATE OR REPLACE TABLE person AS
SELECT *, split_part(postcode, ' ', 1) AS neighbourhood FROM (
SELECT m.person_id,
    arg_min(CAST(p.birth_date AS DATE), {_PREFERRED}) AS birth_date,
    arg_min(p.gender, {_PREFERRED}) AS gender,
    max(CASE WHEN p.source LIKE '%/gp' THEN p.practice_id END) AS practice_id,
    arg_min(p.postcode, {_PREFERRED}) AS postcode,
    max(CASE WHEN p.source LIKE '%/gp' THEN 1 ELSE 0 END) = 1 AS registered,
    min(TRY_CAST(substr(d.deceased_date, 1, 10) AS DATE)) AS deceased_date,
    count(*) AS source_records
FROM person_map m JOIN v_patient p USING (patient_id)
LEFT JOIN v_death d USING (patient_id)
GROUP BY m.person_id)
"""


def build_persons(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(PERSON_MAP)
    con.execute(PERSON)
