"""A full population refresh: views, persons, scores, the risk model, segments and case-finding lists."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import orjson

from .case_finding import build_case_finding
from .code_sets import load_code_sets, versions
from .features import build_features
from .loading import ResourceSource
from .persons import build_persons
from .risk_model import ModelReport, compare_with_truth, train_and_score
from .segments import build_segments
from .views_catalogue import VIEW_NAMES, build_views

STEPS = (*VIEW_NAMES, "persons", "scores", "model", "segments", "case finding")


@dataclass
class RefreshReport:
    index_date: str
    view_rows: dict[str, int]
    model: ModelReport
    seconds: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


def refresh(
    con: duckdb.DuckDBPyConnection,
    index_date: date,
    truth_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    source: ResourceSource | None = None,
) -> RefreshReport:
    """Everything from `source` (default: the `resources` table in con). The model trains a year before
    index_date."""
    step = progress or (lambda _: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    counts = build_views(con, step, source)
    seconds["views"] = time.perf_counter() - started
    mark = time.perf_counter()
    build_persons(con)
    step("persons")
    load_code_sets(con)
    train_date = date(index_date.year - 1, index_date.month, min(index_date.day, 28 if index_date.month == 2 else 31))
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
    seconds["segments and lists"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    report = RefreshReport(index_date.isoformat(), counts, model, seconds, versions())
    con.execute("CREATE OR REPLACE TABLE refresh_report (report JSON)")
    con.execute("INSERT INTO refresh_report VALUES (?)", [orjson.dumps(report).decode()])
    return report
