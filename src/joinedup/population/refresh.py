"""A full population refresh: views, persons, scores, the risk model, segments and case-finding lists."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import orjson

from .case_finding import build_case_finding
from .code_sets import load_code_sets, versions
from .extract import ExtractReport, refresh_views
from .features import build_features
from .loading import NdjsonSource, ResourceSource
from .objections import withhold_objectors
from .persons import build_persons
from .risk_model import ModelReport, compare_with_truth, train_and_score
from .segments import build_segments
from .trends import record_snapshot
from .views_catalogue import VIEW_NAMES, build_views

# The refresh's ceiling on DuckDB's memory (it spills to disk beyond it): the machine's RAM is shared.
MEMORY_LIMIT = "6GB"
STEPS = (*VIEW_NAMES, "persons", "scores", "model", "segments", "case finding")


@dataclass
class RefreshReport:
    index_date: str
    view_rows: dict[str, int]
    model: ModelReport
    seconds: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    extract: ExtractReport | None = None  # what an incremental refresh read again
    withheld_people: int = 0  # people left out because they objected to secondary use (objections.py)


def train_date_for(index_date: date) -> date:
    """The model trains on the index date a year earlier (28 February for a 29th)."""
    return date(index_date.year - 1, index_date.month, min(index_date.day, 28 if index_date.month == 2 else 31))


def refresh(
    con: duckdb.DuckDBPyConnection,
    index_date: date,
    truth_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    source: ResourceSource | None = None,
    incremental: bool = False,
    history: Sequence[date] = (),
) -> RefreshReport:
    """Everything from `source` (default: the `resources` table in con). The model trains a year before
    index_date.

    With incremental (ndjson sources only), the views are kept in con between refreshes and only the files that
    changed since the last one are read again (extract.py); everything after the views is computed in full.

    `history`: earlier index dates to score and segment as well, for the trends (trends.py): each keeps only its
    aggregate snapshot; the tables left behind are index_date's.
    """
    step = progress or (lambda _: None)
    seconds: dict[str, float] = {}
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    started = time.perf_counter()
    extract: ExtractReport | None = None
    if incremental:
        if not isinstance(source, NdjsonSource):
            raise ValueError("an incremental refresh reads ndjson folders (the store path loads in full)")
        extract = refresh_views(con, source, step)
        counts = dict(extract.view_rows or {})
    else:
        counts = build_views(con, step, source)
    seconds["views"] = time.perf_counter() - started
    mark = time.perf_counter()
    build_persons(con)
    withheld = withhold_objectors(con)  # before any figure: every one downstream leaves them out
    step("persons")
    load_code_sets(con)
    if history:
        for earlier in sorted(d for d in history if d < index_date):
            build_features(con, [train_date_for(earlier), earlier])
            train_and_score(con, train_date_for(earlier), earlier)
            build_segments(con)
            record_snapshot(con)
            step(f"history {earlier.isoformat()}")
        seconds["history"] = time.perf_counter() - mark
        mark = time.perf_counter()
    train_date = train_date_for(index_date)
    build_features(con, [train_date, index_date])
    step("scores")
    seconds["persons and scores"] = time.perf_counter() - mark
    mark = time.perf_counter()
    model = train_and_score(con, train_date, index_date)
    if truth_dir is not None and (truth_dir / "risk.csv").exists():
        model = compare_with_truth(con, model, truth_dir)
    step("model")
    seconds["model"] = time.perf_counter() - mark
    mark = time.perf_counter()
    build_segments(con)
    step("segments")
    build_case_finding(con)
    step("case finding")
    record_snapshot(con)
    seconds["segments and lists"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    report = RefreshReport(index_date.isoformat(), counts, model, seconds, versions(), extract, withheld)
    con.execute("CREATE OR REPLACE TABLE refresh_report (report JSON)")
    con.execute("INSERT INTO refresh_report VALUES (?)", [orjson.dumps(report).decode()])
    return report
