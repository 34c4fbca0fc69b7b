"""The calibration report: target, generated value, tolerance and whether it is met, as a table and a file."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from .calibration import CalibrationRow
from .generate import PlaceSummary


def tolerance_text(row: CalibrationRow) -> str:
    if row.kind == "points":
        return f"±{row.tolerance:g}"
    if row.kind == "relative":
        return f"±{row.tolerance * 100:g}%"
    return ""


def verdict(row: CalibrationRow) -> str:
    within = row.within()
    return "" if within is None else "yes" if within else "NO"


def markdown(summary: PlaceSummary) -> str:
    lines = [
        f"Calibration of a place of {summary.people:,} residents ({summary.persons:,} people with those who died "
        "in the window)",
        "",
        "| group | measure | target | generated | tolerance | within? |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in summary.calibration:
        target = "" if row.target is None else f"{row.target:g}"
        lines.append(
            f"| {row.group} | {row.measure} | {target} | {row.generated:g} | {tolerance_text(row)} | {verdict(row)} |"
        )
    return "\n".join(lines) + "\n"


def write_report(folder: Path, summary: PlaceSummary) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calibration.md").write_text(markdown(summary), encoding="utf-8")
    rows = [r.as_dict() for r in summary.calibration]
    (folder / "calibration.json").write_bytes(
        orjson.dumps({"people": summary.people, "rows": rows}, option=orjson.OPT_INDENT_2)
    )


def print_report(summary: PlaceSummary, console: Console) -> None:
    table = Table(title=f"Calibration: {summary.people:,} residents")
    for column in ("measure", "target", "generated", "tolerance", "within?"):
        table.add_column(column, justify="right" if column in ("target", "generated") else "left")
    for row in summary.calibration:
        target = "" if row.target is None else f"{row.target:g}"
        table.add_row(row.measure, target, f"{row.generated:g}", tolerance_text(row), verdict(row))
    console.print(table)
