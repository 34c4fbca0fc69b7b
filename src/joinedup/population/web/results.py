"""What the population pages show, read from the DuckDB file `joinedup population refresh` writes.

Everything here is an aggregate, except the case-finding list, whose people appear only by their pseudonymised
person key (a hash: never a name, NHS number, date of birth or postcode), with age, practice, level and reasons.
The file is opened read-only for each request, so a refresh can replace it between requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+")
LEVELS = (1, 2, 3, 4)
# Bars for the risk distribution: 5-point bands of 12-month emergency admission probability.
RISK_BAND_WIDTH = 0.05


class ResultsMissing(RuntimeError):
    """No refreshed results yet (the refresh has not been run, or wrote elsewhere)."""


@contextmanager
def results(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.is_file():
        raise ResultsMissing(str(path))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:  # a refresh is writing the file (it holds DuckDB's lock)
        raise ResultsMissing(str(path)) from error
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"segment", "risk", "person_features", "case_finding"} <= tables:
            raise ResultsMissing(str(path))
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class Pyramid:
    index_date: date
    bands: tuple[str, ...]
    # (band, level) -> people, for women and for men
    women: dict[tuple[str, int], int]
    men: dict[tuple[str, int], int]
    level_names: dict[int, str]

    def total(self, sex: str, band: str) -> int:
        counts = self.women if sex == "female" else self.men
        return sum(counts.get((band, level), 0) for level in LEVELS)


def index_date(con: duckdb.DuckDBPyConnection) -> date:
    row = con.execute("SELECT max(index_date) FROM segment").fetchone()
    if row is None or row[0] is None:
        raise ResultsMissing("no segments")
    found: date = row[0]
    return found


def _band_sql(age: str) -> str:
    """The AGE_BANDS label for an age column."""
    low = f"CASE WHEN {age} < 30 THEN 18 ELSE {age} // 10 * 10 END"
    high = f"CASE WHEN {age} < 30 THEN 29 ELSE {age} // 10 * 10 + 9 END"
    return f"CASE WHEN {age} >= 90 THEN '90+' ELSE CAST({low} AS VARCHAR) || '-' || CAST({high} AS VARCHAR) END"


def pyramid(con: duckdb.DuckDBPyConnection) -> Pyramid:
    """Adults by age band, sex and level at the latest index date."""
    when = index_date(con)
    rows = con.execute(
        f"SELECT {_band_sql('s.age')} AS band, f.gender, s.level, count(*) FROM segment s "
        "JOIN person_features f USING (person_id, index_date) WHERE s.index_date = ? GROUP BY ALL",
        [when],
    ).fetchall()
    women: dict[tuple[str, int], int] = {}
    men: dict[tuple[str, int], int] = {}
    for band, gender, level, people in rows:
        target = women if gender == "female" else men if gender == "male" else None
        if target is not None and level is not None:
            target[(str(band), int(level))] = int(people)
    names = dict(con.execute("SELECT DISTINCT level, level_name FROM segment WHERE level IS NOT NULL").fetchall())
    return Pyramid(when, AGE_BANDS, women, men, {int(k): str(v) for k, v in names.items()})


@dataclass(frozen=True)
class RiskDistribution:
    bands: tuple[str, ...]
    people: tuple[int, ...]
    calibration: tuple[tuple[int, float, float, int], ...]  # decile, mean predicted, observed rate, people


def risk_distribution(con: duckdb.DuckDBPyConnection) -> RiskDistribution:
    when = con.execute("SELECT max(index_date) FROM risk").fetchone()
    at = when[0] if when else None
    counts = dict(
        con.execute(
            "SELECT least(floor(probability / ?), ?) AS band, count(*) FROM risk WHERE index_date = ? GROUP BY 1",
            [RISK_BAND_WIDTH, round(1 / RISK_BAND_WIDTH) - 1, at],
        ).fetchall()
    )
    steps = round(1 / RISK_BAND_WIDTH)
    bands = tuple(f"{i * 5}-{i * 5 + 5}%" for i in range(steps))
    people = tuple(int(counts.get(float(i)) or 0) for i in range(steps))
    deciles = con.execute(
        "SELECT decile, avg(probability), avg(CAST(outcome_emergency_admission AS DOUBLE)), count(*) FROM ("
        " SELECT r.probability, f.outcome_emergency_admission, ntile(10) OVER (ORDER BY r.probability) AS decile"
        " FROM risk r JOIN person_features f USING (person_id, index_date) WHERE r.index_date = ?"
        " AND f.outcome_emergency_admission IS NOT NULL) GROUP BY decile ORDER BY decile",
        [at],
    ).fetchall()
    calibration = tuple((int(d), float(p), float(o), int(n)) for d, p, o, n in deciles)
    return RiskDistribution(bands, people, calibration)


@dataclass(frozen=True)
class Trend:
    months: tuple[str, ...]
    emergency_admissions: tuple[int, ...]


def admissions_trend(con: duckdb.DuckDBPyConnection, months: int = 36) -> Trend:
    """Emergency admissions a month, place-wide, for the months up to the index date."""
    when = index_date(con)
    admitted = "TRY_CAST(substr(admit_date, 1, 10) AS DATE)"
    rows = con.execute(
        f"SELECT strftime(date_trunc('month', {admitted}), '%Y-%m') AS month, count(DISTINCT encounter_id) "
        f"FROM v_admission WHERE emergency AND {admitted} <= ? AND {admitted} > ? - INTERVAL (?) MONTH "
        "GROUP BY 1 ORDER BY 1",
        [when, when, months],
    ).fetchall()
    return Trend(tuple(str(m) for m, _ in rows), tuple(int(n) for _, n in rows))


@dataclass(frozen=True)
class Shares:
    by: str
    groups: tuple[str, ...]
    # group -> (people per level 1..4, total)
    people: dict[str, tuple[tuple[int, ...], int]]

    def share(self, group: str, level: int) -> float:
        counts, total = self.people[group]
        return counts[level - 1] / total if total else 0.0


def shares(con: duckdb.DuckDBPyConnection, by: str) -> Shares:
    """Adults in each level by neighbourhood or by practice, at the latest index date."""
    column = {"neighbourhood": "neighbourhood", "practice": "practice_id"}[by]
    rows = con.execute(
        f"SELECT coalesce({column}, 'Not known') AS grp, level, count(*) FROM segment "
        "WHERE index_date = ? AND level IS NOT NULL GROUP BY ALL ORDER BY grp",
        [index_date(con)],
    ).fetchall()
    found: dict[str, list[int]] = {}
    for group, level, people in rows:
        found.setdefault(str(group), [0, 0, 0, 0])[int(level) - 1] = int(people)
    people = {group: (tuple(counts), sum(counts)) for group, counts in found.items()}
    return Shares(by, tuple(sorted(found)), people)


@dataclass(frozen=True)
class ListedPerson:
    rank: int
    person_key: str  # the pseudonymised person key
    age: int
    practice: str
    level: int | None
    probability: float
    reasons: tuple[str, ...]


def neighbourhoods(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT DISTINCT neighbourhood FROM case_finding ORDER BY 1").fetchall()
    return [str(row[0]) for row in rows]


def case_finding_list(con: duckdb.DuckDBPyConnection, neighbourhood: str) -> list[ListedPerson]:
    rows = con.execute(
        "SELECT rank, person_id, age, practice_id, level, probability, reasons FROM case_finding "
        "WHERE neighbourhood = ? ORDER BY rank",
        [neighbourhood],
    ).fetchall()
    return [
        ListedPerson(int(r), str(p), int(a), str(pr or ""), None if lv is None else int(lv), float(pb), tuple(rs))
        for r, p, a, pr, lv, pb, rs in rows
    ]
