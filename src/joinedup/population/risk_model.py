"""The 12-month emergency admission risk model: logistic regression on the place's own history.

Trained on the earlier index date (outcome: an emergency admission in the following year), applied to the later
one. Logistic regression keeps each person's "factors that raised their risk most" exact: a factor's
contribution is its coefficient times the person's distance from the training mean (on the log-odds scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs in the lock
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # no py.typed
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # no py.typed

MODEL_VERSION = "2"  # 2: age bands at the rate changes, 3- and 5-year utilisation

# name -> (SQL over person_features, label shown to professionals)
FEATURES: dict[str, tuple[str, str]] = {
    # Age bands where the emergency admission rate changes (under-5s are admitted far more than older children).
    "age_0_4": ("(age < 5)::DOUBLE", "aged under 5"),
    "age_5_17": ("(age BETWEEN 5 AND 17)::DOUBLE", "aged 5 to 17"),
    "age_45_64": ("(age BETWEEN 45 AND 64)::DOUBLE", "aged 45 to 64"),
    "age_65_74": ("(age BETWEEN 65 AND 74)::DOUBLE", "aged 65 to 74"),
    "age_75_84": ("(age BETWEEN 75 AND 84)::DOUBLE", "aged 75 to 84"),
    "age_85_plus": ("(age >= 85)::DOUBLE", "aged 85 or over"),
    "age": ("age / 10.0", "age"),
    "female": ("(gender = 'female')::DOUBLE", "female"),
    # Beyond 16 deficits more add little: the count is capped so a few extreme records do not steer the slope.
    "efi_deficits": ("least(efi_deficits, 16)::DOUBLE", "frailty deficits (eFI)"),
    "ltc_count": ("ltc_count::DOUBLE", "number of long-term conditions"),
    "charlson": ("charlson::DOUBLE", "Charlson comorbidity"),
    "hfrs": ("coalesce(hfrs, 0)", "hospital frailty risk score"),
    "emergency_admissions_12m": ("ln(1 + emergency_admissions_12m)", "emergency admissions in the last year"),
    "emergency_admissions_24m": ("ln(1 + emergency_admissions_24m)", "emergency admissions in the last 2 years"),
    "emergency_admissions_60m": ("ln(1 + emergency_admissions_60m)", "emergency admissions in the last 5 years"),
    "elective_admissions_12m": ("ln(1 + elective_admissions_12m)", "planned admissions in the last year"),
    "bed_days_12m": ("ln(1 + bed_days_12m)", "days in hospital in the last year"),
    "ae_attendances_12m": ("ln(1 + ae_attendances_12m)", "A&E attendances in the last year"),
    "ae_attendances_36m": ("ln(1 + ae_attendances_36m)", "A&E attendances in the last 3 years"),
    "gp_contacts_12m": ("ln(1 + gp_contacts_12m)", "GP contacts in the last year"),
    "gp_contacts_36m": ("ln(1 + gp_contacts_36m)", "GP contacts in the last 3 years"),
    "gp_home_visits_36m": ("ln(1 + gp_home_visits_36m)", "GP home visits in the last 3 years"),
    "outpatient_attendances_36m": ("ln(1 + outpatient_attendances_36m)", "outpatient attendances in the last 3 years"),
    "community_contacts_12m": ("ln(1 + community_contacts_12m)", "community health contacts in the last year"),
    "mental_health_contacts_12m": ("ln(1 + mental_health_contacts_12m)", "mental health contacts in the last year"),
    "social_care_contacts_12m": ("ln(1 + social_care_contacts_12m)", "social care contacts in the last year"),
    "social_care_support": ("social_care_support::DOUBLE", "receives social care support"),
    "care_home_resident": ("care_home_resident::DOUBLE", "lives in a care home"),
    "telecare": ("telecare::DOUBLE", "has telecare"),
}
CONDITIONS = (
    "hypertension",
    "diabetes",
    "asthma",
    "copd",
    "chd",
    "af",
    "heart_failure",
    "stroke",
    "ckd",
    "dementia",
    "depression",
    "smi",
    "cancer",
    "arthritis",
    "hypothyroidism",
    "osteoporosis",
    "epilepsy",
)


@dataclass
class ModelReport:
    version: str
    train_index_date: str
    test_index_date: str
    train_people: int
    test_people: int
    auc: float
    calibration_slope: float
    calibration_intercept: float
    calibration_bins: list[tuple[float, float, int]] = field(default_factory=list)  # mean predicted, observed, n
    efi_auc: float | None = None
    true_probability_auc: float | None = None
    auc_on_truth_people: float | None = None


def _matrix(
    con: duckdb.DuckDBPyConnection, index_date: date
) -> tuple[list[str], NDArray[np.float64], NDArray[np.int8]]:
    columns = [f"{sql} AS {name}" for name, (sql, _) in FEATURES.items()]
    columns += [f"list_contains(conditions, '{c}')::DOUBLE AS ltc_{c}" for c in CONDITIONS]
    rows = con.execute(
        f"SELECT person_id, {', '.join(columns)}, outcome_emergency_admission::TINYINT AS outcome "
        "FROM person_features WHERE index_date = ? ORDER BY person_id",
        [index_date],
    ).fetchnumpy()
    ids = [str(v) for v in rows["person_id"]]
    names = [*FEATURES, *(f"ltc_{c}" for c in CONDITIONS)]
    x = np.column_stack([np.asarray(rows[n], dtype=np.float64) for n in names]) if ids else np.zeros((0, len(names)))
    y = np.asarray(rows["outcome"], dtype=np.int8)
    return ids, x, y


def feature_labels() -> list[str]:
    return [label for _, label in FEATURES.values()] + [f"has {c.replace('_', ' ')}" for c in CONDITIONS]


def _auc(y: NDArray[np.int8], score: NDArray[np.float64]) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def calibration(y: NDArray[np.int8], p: NDArray[np.float64]) -> tuple[float, float]:
    """Slope and intercept of the outcome regressed on the logit of the prediction (ideal: 1 and 0)."""
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")  # undefined without both outcomes (a tiny or uneventful cohort)
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit, y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def _bins(y: NDArray[np.int8], p: NDArray[np.float64], count: int = 10) -> list[tuple[float, float, int]]:
    order = np.argsort(p, kind="stable")
    return [
        (float(p[part].mean()), float(y[part].mean()), int(part.size))
        for part in np.array_split(order, count)
        if part.size
    ]


def train_and_score(con: duckdb.DuckDBPyConnection, train_date: date, score_date: date) -> ModelReport:
    """Fit on train_date, score everyone at score_date into `risk` (probability, percentile, top factors)."""
    _, x_train, y_train = _matrix(con, train_date)
    ids, x_test, y_test = _matrix(con, score_date)
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x_train - mean) / scale, y_train)
    z_test = (x_test - mean) / scale
    probability = model.predict_proba(z_test)[:, 1]
    contributions = z_test * model.coef_[0]
    labels = feature_labels()
    # Only what the person has more of than the average person counts as raising their risk: being outside a
    # protective band (say, not aged 45 to 64) also adds log-odds, but is no reason to show a professional.
    raised = np.where(x_test > mean, contributions, 0.0)
    top = np.argsort(-raised, axis=1, kind="stable")[:, :3]
    factors = [[labels[j] for j in row if raised[i, j] > 0.05] for i, row in enumerate(top)]
    percentile = (np.argsort(np.argsort(probability, kind="stable"), kind="stable") + 1) / max(len(ids), 1)
    con.execute(
        "CREATE OR REPLACE TABLE risk (person_id VARCHAR, index_date DATE, probability DOUBLE, "
        "percentile DOUBLE, factors VARCHAR[], model_version VARCHAR)"
    )
    scored = pd.DataFrame(
        {
            "person_id": ids,
            "probability": np.round(probability, 6),
            "percentile": np.round(percentile, 6),
            "factors": factors,
        }
    )
    con.register("scored_frame", scored)
    con.execute(
        "INSERT INTO risk SELECT person_id, ?, probability, percentile, factors, ? FROM scored_frame",
        [score_date, MODEL_VERSION],
    )
    con.unregister("scored_frame")
    slope, intercept = calibration(y_test, probability)
    efi = con.execute(
        "SELECT efi_deficits FROM person_features WHERE index_date = ? ORDER BY person_id", [score_date]
    ).fetchnumpy()["efi_deficits"]
    return ModelReport(
        MODEL_VERSION,
        train_date.isoformat(),
        score_date.isoformat(),
        len(y_train),
        len(y_test),
        _auc(y_test, probability),
        slope,
        intercept,
        _bins(y_test, probability),
        efi_auc=_auc(y_test, efi),
    )


def compare_with_truth(con: duckdb.DuckDBPyConnection, report: ModelReport, truth_dir: Path) -> ModelReport:
    """The synthetic place's true probabilities' AUC on the same people and outcomes (the ceiling to reach).

    Our people are matched to the generator's through their GP record (truth/persons.csv names each source record's
    true person); used only to measure, never as a model input.
    """
    persons = str(truth_dir / "persons.csv").replace("'", "''")
    risk = str(truth_dir / "risk.csv").replace("'", "''")
    rows = con.execute(
        f"""
        WITH truth_person AS (
            SELECT m.person_id, any_value(t.person_id) AS truth_id
            FROM person_map m JOIN read_csv('{persons}', all_varchar = true) t ON t.patient_id = m.patient_id
            WHERE t.source = 'gp' GROUP BY m.person_id)
        SELECT f.outcome_emergency_admission::TINYINT AS outcome, r.probability AS model, t.true_probability AS truth
        FROM person_features f JOIN risk r USING (person_id, index_date)
        JOIN truth_person p USING (person_id)
        JOIN read_csv('{risk}', types = {{'true_probability': 'DOUBLE'}}) t ON t.person_id = p.truth_id
        WHERE f.index_date = ?""",
        [date.fromisoformat(report.test_index_date)],
    ).fetchnumpy()
    report.true_probability_auc = float(roc_auc_score(rows["outcome"], rows["truth"]))
    report.auc_on_truth_people = float(roc_auc_score(rows["outcome"], rows["model"]))
    return report
