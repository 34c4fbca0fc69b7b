"""Per person and index date: the scores (eFI, HFRS, Charlson, long-term conditions) and the model's inputs.

Everything is computed from records dated on or before the index date; the outcome (an emergency admission in
the 12 months after it) only from records after it. One set-based pass covers every index date at once.
"""

from __future__ import annotations

from datetime import date

import duckdb

from .code_sets import ICD10, charlson_rows, ltc_rows

EVENTS = """
CREATE OR REPLACE TABLE coded_event AS
SELECT m.person_id, c.system, replace(c.code, '.', '') AS code,
       TRY_CAST(substr(coalesce(c.onset_date, c.recorded_date), 1, 10) AS DATE) AS event_date
FROM v_condition c JOIN person_map m USING (patient_id)
UNION ALL
SELECT m.person_id, o.system, o.code, TRY_CAST(substr(o.effective_date, 1, 10) AS DATE)
FROM v_observation o JOIN person_map m USING (patient_id);

CREATE OR REPLACE TABLE stay AS
SELECT DISTINCT m.person_id, a.encounter_id, a.emergency,
       TRY_CAST(substr(a.admit_date, 1, 10) AS DATE) AS admit_date,
       TRY_CAST(substr(a.discharge_date, 1, 10) AS DATE) AS discharge_date
FROM v_admission a JOIN person_map m USING (patient_id);

CREATE OR REPLACE TABLE episode AS
SELECT m.person_id, split_part(s.source, '/', -1) AS source, s.type_code,
       TRY_CAST(substr(s.start_date, 1, 10) AS DATE) AS start_date,
       TRY_CAST(substr(s.end_date, 1, 10) AS DATE) AS end_date
FROM v_service s JOIN person_map m USING (patient_id);

CREATE OR REPLACE TABLE prescription AS
SELECT m.person_id, r.code, TRY_CAST(substr(r.authored_on, 1, 10) AS DATE) AS authored_on
FROM v_medication r JOIN person_map m USING (patient_id);
"""

# Residents on each index date: registered with a practice, born by then and not dead.
COHORT = """
CREATE OR REPLACE TABLE cohort AS
SELECT p.person_id, i.index_date,
       -- Completed years, as whole-number arithmetic on yyyymmdd that both DuckDB and Spark read alike.
       CAST(floor(((year(i.index_date) - year(p.birth_date)) * 10000 + (month(i.index_date) - month(p.birth_date))
           * 100 + day(i.index_date) - day(p.birth_date)) / 10000.0) AS INTEGER) AS age,
       p.gender, p.practice_id, p.neighbourhood
FROM person p CROSS JOIN index_date i
WHERE p.registered AND p.birth_date <= i.index_date AND (p.deceased_date IS NULL OR p.deceased_date > i.index_date)
"""

SCORES = """
CREATE OR REPLACE TABLE deficit_present AS
SELECT DISTINCT c.person_id, c.index_date, x.deficit
FROM cohort c JOIN coded_event e ON e.person_id = c.person_id AND e.event_date <= c.index_date
JOIN efi_code x ON x.code = e.code AND e.system = 'http://snomed.info/sct'
UNION
SELECT c.person_id, c.index_date, 'polypharmacy'
FROM cohort c JOIN prescription r ON r.person_id = c.person_id
     AND r.authored_on > c.index_date - INTERVAL 1 YEAR AND r.authored_on <= c.index_date
GROUP BY ALL HAVING count(DISTINCT r.code) >= 5;

CREATE OR REPLACE TABLE condition_present AS
SELECT DISTINCT c.person_id, c.index_date, x.condition
FROM cohort c JOIN (
    SELECT person_id, system, event_date, code AS head FROM coded_event
    UNION ALL
    SELECT person_id, system, event_date, unnest({ltc_heads}) FROM coded_event WHERE system LIKE '%icd-10'
) e ON e.person_id = c.person_id AND e.event_date <= c.index_date
JOIN ltc_code x ON x.system = e.system AND x.code = e.head;

CREATE OR REPLACE TABLE charlson_present AS
WITH found AS (
    SELECT DISTINCT c.person_id, c.index_date, x.category, x.weight
    FROM cohort c JOIN (
        SELECT person_id, event_date, unnest({charlson_heads}) AS head FROM coded_event
        WHERE system = 'http://hl7.org/fhir/sid/icd-10'
    ) e ON e.person_id = c.person_id AND e.event_date <= c.index_date
    JOIN charlson_code x ON x.prefix = e.head
)
SELECT f.* FROM found f WHERE NOT EXISTS (
    SELECT 1 FROM charlson_hierarchy h JOIN found s ON s.category = h.severe
    WHERE h.mild = f.category AND s.person_id = f.person_id AND s.index_date = f.index_date);

CREATE OR REPLACE TABLE hfrs_score AS
WITH eligible AS (
    SELECT DISTINCT c.person_id, c.index_date FROM cohort c JOIN stay s ON s.person_id = c.person_id
    WHERE c.age >= 75 AND s.emergency AND s.admit_date > c.index_date - INTERVAL 2 YEAR AND s.admit_date <= c.index_date
), codes AS (
    SELECT DISTINCT g.person_id, g.index_date, substr(e.code, 1, 3) AS icd3
    FROM eligible g JOIN coded_event e ON e.person_id = g.person_id AND e.system = 'http://hl7.org/fhir/sid/icd-10'
         AND e.event_date > g.index_date - INTERVAL 2 YEAR AND e.event_date <= g.index_date
)
-- Weights have one decimal place: summed as decimals, so the total never depends on the order rows arrive in.
SELECT g.person_id, g.index_date, coalesce(sum(w.weight::DECIMAL(9, 1)), 0)::DOUBLE AS hfrs
FROM eligible g LEFT JOIN codes c USING (person_id, index_date) LEFT JOIN hfrs_weight w ON w.icd3 = c.icd3
GROUP BY ALL;
"""

# The look-back windows, written once so the SQL below stays readable.
YEAR_BACK = "c.index_date - INTERVAL 1 YEAR"
TWO_YEARS_BACK = "c.index_date - INTERVAL 2 YEAR"
PAST_YEAR = f"s.admit_date <= c.index_date AND s.admit_date > {YEAR_BACK}"
PAST_TWO_YEARS = f"s.admit_date <= c.index_date AND s.admit_date > {TWO_YEARS_BACK}"
PAST_FIVE_YEARS = "s.admit_date <= c.index_date AND s.admit_date > c.index_date - INTERVAL 5 YEAR"
NEXT_YEAR = "s.admit_date > c.index_date AND s.admit_date <= c.index_date + INTERVAL 1 YEAR"

UTILISATION = f"""
-- Contacts are counted per source record first and summed per person after: the join to person_map then meets
-- one row per record and index date instead of one per encounter (most of the place's rows).
CREATE OR REPLACE TABLE utilisation AS
WITH dated AS (
    SELECT patient_id, split_part(source, '/', -1) AS source, class,
           TRY_CAST(substr(start_date, 1, 10) AS DATE) AS start_date
    FROM v_encounter),
by_record AS (
    SELECT k.patient_id, c.index_date,
        count(*) FILTER (WHERE k.source = 'gp' AND k.start_date > {YEAR_BACK}) AS gp_contacts_12m,
        count(*) FILTER (WHERE k.class = 'EMER' AND k.start_date > {YEAR_BACK}) AS ae_attendances_12m,
        count(*) FILTER (WHERE k.source = 'community' AND k.start_date > {YEAR_BACK}) AS community_contacts_12m,
        count(*) FILTER (WHERE k.source = 'mentalhealth' AND k.start_date > {YEAR_BACK})
            AS mental_health_contacts_12m,
        count(*) FILTER (WHERE k.source = 'socialcare' AND k.start_date > {YEAR_BACK}) AS social_care_contacts_12m,
        -- Three years of A&E, GP and outpatient contacts say more about a person's steady rate than one year.
        count(*) FILTER (WHERE k.class = 'EMER') AS ae_attendances_36m,
        count(*) FILTER (WHERE k.source = 'gp') AS gp_contacts_36m,
        count(*) FILTER (WHERE k.source = 'gp' AND k.class = 'HH') AS gp_home_visits_36m,
        count(*) FILTER (WHERE k.source = 'acute' AND k.class = 'AMB') AS outpatient_attendances_36m
    FROM dated k JOIN index_date c ON k.start_date <= c.index_date AND k.start_date > c.index_date - INTERVAL 3 YEAR
    GROUP BY k.patient_id, c.index_date)
SELECT m.person_id, r.index_date,
    CAST(sum(r.gp_contacts_12m) AS BIGINT) AS gp_contacts_12m,
    CAST(sum(r.ae_attendances_12m) AS BIGINT) AS ae_attendances_12m,
    CAST(sum(r.community_contacts_12m) AS BIGINT) AS community_contacts_12m,
    CAST(sum(r.mental_health_contacts_12m) AS BIGINT) AS mental_health_contacts_12m,
    CAST(sum(r.social_care_contacts_12m) AS BIGINT) AS social_care_contacts_12m,
    CAST(sum(r.ae_attendances_36m) AS BIGINT) AS ae_attendances_36m,
    CAST(sum(r.gp_contacts_36m) AS BIGINT) AS gp_contacts_36m,
    CAST(sum(r.gp_home_visits_36m) AS BIGINT) AS gp_home_visits_36m,
    CAST(sum(r.outpatient_attendances_36m) AS BIGINT) AS outpatient_attendances_36m
FROM by_record r JOIN person_map m USING (patient_id)
GROUP BY m.person_id, r.index_date;

CREATE OR REPLACE TABLE admissions AS
SELECT c.person_id, c.index_date,
    count(*) FILTER (WHERE s.emergency AND {PAST_YEAR}) AS emergency_admissions_12m,
    count(*) FILTER (WHERE s.emergency AND {PAST_TWO_YEARS}) AS emergency_admissions_24m,
    count(*) FILTER (WHERE s.emergency AND {PAST_FIVE_YEARS}) AS emergency_admissions_60m,
    count(*) FILTER (WHERE NOT s.emergency AND {PAST_YEAR}) AS elective_admissions_12m,
    coalesce(sum(date_diff('day', s.admit_date, s.discharge_date)) FILTER (WHERE {PAST_YEAR}), 0) AS bed_days_12m,
    count(*) FILTER (WHERE s.emergency AND {NEXT_YEAR}) > 0 AS outcome_emergency_admission
FROM cohort c JOIN stay s ON s.person_id = c.person_id
GROUP BY ALL;

CREATE OR REPLACE TABLE services_at_index AS
SELECT c.person_id, c.index_date,
    bool_or(e.source = 'socialcare') AS social_care_support,
    bool_or(e.type_code IN ('residential-placement', 'nursing-placement')) AS care_home_resident,
    bool_or(e.source IN ('community', 'mentalhealth', 'socialcare')) AS on_caseload,
    bool_or(e.type_code = 'telecare') AS telecare
FROM cohort c JOIN episode e ON e.person_id = c.person_id AND e.start_date <= c.index_date
     AND (e.end_date IS NULL OR e.end_date > c.index_date)
GROUP BY ALL;
"""

ASSEMBLE = """
CREATE OR REPLACE TABLE person_features AS
WITH efi AS (SELECT person_id, index_date, count(*) AS efi_deficits FROM deficit_present GROUP BY ALL),
ltc AS (SELECT person_id, index_date, count(*) AS ltc_count, list_sort(list(condition)) AS conditions
        FROM condition_present GROUP BY ALL),
cci AS (SELECT person_id, index_date, sum(weight) AS charlson FROM charlson_present GROUP BY ALL)
SELECT c.*,
    coalesce(efi.efi_deficits, 0) AS efi_deficits,
    round(coalesce(efi.efi_deficits, 0) / 36.0, 4) AS efi,
    CASE WHEN c.age < 65 THEN NULL WHEN coalesce(efi.efi_deficits, 0) <= 4 THEN 'fit'
         WHEN efi.efi_deficits <= 8 THEN 'mild' WHEN efi.efi_deficits <= 12 THEN 'moderate' ELSE 'severe' END
        AS efi_category,
    h.hfrs,
    CASE WHEN h.hfrs IS NULL THEN NULL WHEN h.hfrs < 5 THEN 'low' WHEN h.hfrs <= 15 THEN 'intermediate'
         ELSE 'high' END AS hfrs_band,
    coalesce(cci.charlson, 0) AS charlson,
    coalesce(ltc.ltc_count, 0) AS ltc_count,
    coalesce(ltc.conditions, []) AS conditions,
    coalesce(u.gp_contacts_12m, 0) AS gp_contacts_12m,
    coalesce(u.ae_attendances_12m, 0) AS ae_attendances_12m,
    coalesce(u.community_contacts_12m, 0) AS community_contacts_12m,
    coalesce(u.mental_health_contacts_12m, 0) AS mental_health_contacts_12m,
    coalesce(u.social_care_contacts_12m, 0) AS social_care_contacts_12m,
    coalesce(u.ae_attendances_36m, 0) AS ae_attendances_36m,
    coalesce(u.gp_contacts_36m, 0) AS gp_contacts_36m,
    coalesce(u.gp_home_visits_36m, 0) AS gp_home_visits_36m,
    coalesce(u.outpatient_attendances_36m, 0) AS outpatient_attendances_36m,
    coalesce(a.emergency_admissions_12m, 0) AS emergency_admissions_12m,
    coalesce(a.emergency_admissions_24m, 0) AS emergency_admissions_24m,
    coalesce(a.emergency_admissions_60m, 0) AS emergency_admissions_60m,
    coalesce(a.elective_admissions_12m, 0) AS elective_admissions_12m,
    coalesce(a.bed_days_12m, 0) AS bed_days_12m,
    coalesce(s.social_care_support, false) AS social_care_support,
    coalesce(s.care_home_resident, false) AS care_home_resident,
    coalesce(s.on_caseload, false) AS on_caseload,
    coalesce(s.telecare, false) AS telecare,
    coalesce(a.outcome_emergency_admission, false) AS outcome_emergency_admission
FROM cohort c
LEFT JOIN efi USING (person_id, index_date) LEFT JOIN ltc USING (person_id, index_date)
LEFT JOIN cci USING (person_id, index_date) LEFT JOIN hfrs_score h USING (person_id, index_date)
LEFT JOIN utilisation u USING (person_id, index_date) LEFT JOIN admissions a USING (person_id, index_date)
LEFT JOIN services_at_index s USING (person_id, index_date)
ORDER BY c.person_id, c.index_date
"""


def heads(lengths: list[int]) -> str:
    """The list of a code's leading parts, one per prefix length the code set uses.

    "The code starts with a listed prefix" then becomes an equality join (a hash join) instead of testing every
    event against every prefix; a code shorter than a length gives itself, which only matches what it starts with.
    """
    return "[" + ", ".join(f"substr(code, 1, {length})" for length in sorted(set(lengths))) + "]::VARCHAR[]"


def scripts() -> list[str]:
    """The statements that build person_features, in order, after `index_date` holds index_dates."""
    ltc_lengths = [len(code) for _, system, code in ltc_rows() if system == ICD10]
    charlson_lengths = [len(prefix) for _, _, prefix in charlson_rows()]
    scores = SCORES.replace("{ltc_heads}", heads(ltc_lengths)).replace("{charlson_heads}", heads(charlson_lengths))
    return [statement for script in (EVENTS, COHORT, scores, UTILISATION, ASSEMBLE) for statement in _split(script)]


def _split(script: str) -> list[str]:
    """The statements of a script (none of them holds a semicolon inside a string or comment)."""
    parts = (part.strip() for part in script.split(";"))
    return [part for part in parts if any(not line.strip().startswith("--") for line in part.splitlines())]


def build_features(con: duckdb.DuckDBPyConnection, index_dates: list[date]) -> None:
    con.execute("CREATE OR REPLACE TABLE index_date (index_date DATE)")
    con.executemany("INSERT INTO index_date VALUES (?)", [(d,) for d in index_dates])
    for statement in scripts():
        con.execute(statement)
