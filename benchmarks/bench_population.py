"""Population refresh benchmark: `python -m benchmarks.bench_population PLACE_DIR [--spark-check]`.

Loads a synthetic place's ndjson into DuckDB, then times the full refresh (views, persons, scores, model,
segments, case-finding lists) and prints the figures with the machine's load average (the machine is shared).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from joinedup.population.loading import load_ndjson
from joinedup.population.refresh import refresh


def main(place: Path) -> None:
    con = duckdb.connect()
    started = time.perf_counter()
    count = load_ndjson(con, place / "feeds")
    load_seconds = time.perf_counter() - started
    report = refresh(con, date(2024, 12, 31), place / "truth")
    model = report.model
    print(f"resources {count:,}; load {load_seconds:.1f} s; refresh {report.seconds['total']:.1f} s")
    print("steps", {k: round(v, 1) for k, v in report.seconds.items()})
    print(f"AUC {model.auc:.3f}; true-probability AUC {model.true_probability_auc}; eFI AUC {model.efi_auc:.3f}")
    print(f"calibration slope {model.calibration_slope:.2f} intercept {model.calibration_intercept:.2f}")
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
