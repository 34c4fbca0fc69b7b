"""docs/benchmarks.md: each figure beside its target and the same-run baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGET_P95_MS = {"read": 20.0, "Patient/$everything": 250.0}
SEARCH_TARGET_MS = 50.0


def _ingest_table(figures: list[Any]) -> list[str]:
    lines = [
        "| database | resources | `joinedup load` (resources/s) | raw floor, same run (rows/s) | ratio | target |"
        " met? | rows written per resource | rows written/s | rows/s ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = f.load_rate / f.floor_rate
        lines.append(
            f"| {f.database} | {f.resources:,} | {f.load_rate:,.0f} | {f.floor_rate:,.0f} | {ratio:.2f} |"
            f" >= 0.50 of the floor | {'yes' if ratio >= 0.5 else 'no'} | {f.rows_per_resource:.1f} |"
            f" {f.row_rate:,.0f} | {f.row_rate / f.floor_rate:.2f} |"
        )
    return lines


def _stages_table(stages: list[Any], ingest: list[Any]) -> list[str]:
    """Each stage's CPU per resource beside the budget the target leaves (decision 0019)."""
    total = sum(stage.micros_per_resource for stage in stages)
    lines = [
        "### Where a resource's time goes before the database writes it",
        "",
        "Each stage of `joinedup load` timed on its own over the same feeds in the same run, on one core (CPU "
        "microseconds per resource). The workers' stages run in two processes; the hand-over's second half and "
        "the database's writing (not in this table) run in the single writer.",
        "",
        "| stage | paid by | CPU µs per resource |",
        "|---|---|---|",
        *(f"| {stage.stage} | {stage.where} | {stage.micros_per_resource:.1f} |" for stage in stages),
        f"| **all of the above** | | **{total:.1f}** |",
        "",
    ]
    lines += [
        "The whole load's CPU in the same run, by process, per resource: the database's own work is the writer's "
        "on SQLite (it runs in that process) and the server's on PostgreSQL.",
        "",
        "| database | writer (µs) | workers (µs) | PostgreSQL server (µs) | all (µs) | load's wall time (µs) |",
        "|---|---|---|---|---|---|",
    ]
    for figures in ingest:
        if figures.cpu is not None:
            split = [
                1e6 * seconds / figures.resources
                for seconds in (figures.cpu.writer, figures.cpu.workers, figures.cpu.server)
            ]
            lines.append(
                f"| {figures.database} | {split[0]:.1f} | {split[1]:.1f} | {split[2]:.1f} | {sum(split):.1f} |"
                f" {1e6 / figures.load_rate:.1f} |"
            )
    lines.append("")
    for figures in ingest:
        floor_micros = 1e6 / figures.floor_rate
        budget = 2 * floor_micros
        lines.append(
            f"- {figures.database}: the floor takes {floor_micros:.1f} µs per resource, so the target (half its "
            f"rate) leaves {budget:.1f} µs of wall time per resource: at most {2 * budget:.1f} µs of CPU with both "
            f"cores busy throughout, for these stages and the database's writing together. These stages alone take "
            f"{total:.1f} µs ({total / (2 * budget):.1f}× that budget)" + _whole_load(figures, 2 * budget)
        )
    return [*lines, ""]


def _whole_load(figures: Any, cpu_budget: float) -> str:
    if figures.cpu is None:
        return "."
    micros = 1e6 * figures.cpu.total / figures.resources
    return f", and the whole load {micros:.1f} µs ({micros / cpu_budget:.1f}×)."


def _target(scenario: str) -> float | None:
    if scenario.startswith("search"):
        return SEARCH_TARGET_MS
    return TARGET_P95_MS.get(scenario)


def _serving_table(name: str, run: dict[str, Any]) -> list[str]:
    lines = [
        f"### {name}",
        "",
        f"{run['prepared']} `$everything` persons have "
        f"{min(run['everything_sizes'])}–{max(run['everything_sizes'])} resources referring to them.",
        "",
        "| scenario | requests/s | p50 (ms) | p95 (ms) | p95 target (ms) | met? | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in run["results"]:
        target = _target(r.scenario)
        met = "—" if target is None else ("yes" if r.p95_ms <= target else "no")
        target_text = "baseline" if target is None else f"<= {target:.0f}"
        lines.append(
            f"| {r.scenario} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
            f"{target_text} | {met} | {r.errors} |"
        )
    return lines


def write_report(path: Path, sections: dict[str, Any]) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {sections['date']} on {sections['machine']} with `make bench` (python -m benchmarks).",
        "Every figure is from one run, beside its target and a baseline measured in the same run.",
        f"Load average (1/5/15 min) when the run began: {sections.get('load_before', '?')}; when it ended: "
        f"{sections.get('load_after', '?')}. On 2 cores, anything above 2 means other work shared the machine and "
        "every figure, the floors and baselines included, is slower than on a quiet machine.",
        "",
    ]
    if "ingest" in sections:
        lines += [
            "## Ingest",
            "",
            "Bulk ndjson feeds of the synthetic place through `joinedup load` (validation, versions, search "
            "index, two worker processes), beside the raw floor: the same JSON rows inserted into the same "
            "database with no validation and no indexing, in batches of the same size. Each resource becomes a current "
            "row, a version row and its search index rows (the 'rows written per resource' column); the last two "
            "columns set every row the load wrote against the floor's rows per second.",
            "",
            *_ingest_table(sections["ingest"]),
            "",
        ]
        if "ingest_stages" in sections:
            lines += _stages_table(sections["ingest_stages"], sections["ingest"])
    if "serving" in sections:
        lines += [
            "## Serving",
            "",
            f"16 concurrent HTTP clients (wrk) over loopback against `joinedup serve` (2 worker processes) "
            f"with {sections['serving_resources']:,} resources loaded. URLs drawn at random from the loaded "
            "data; a 3-second warm-up precedes each measurement. The baseline is `/healthz` (HTTP stack only).",
            "",
        ]
        for name, run in sections["serving"].items():
            lines += [*_serving_table(name, run), ""]
    for extra in sections.get("extra", []):
        lines += [extra, ""]
    lines += _component_sections(path.parent)
    path.write_text("\n".join(lines))


def _component_sections(docs: Path) -> list[str]:
    """The sections the component benchmarks wrote (docs/benchmarks-*.md), each under its own heading."""
    found: list[str] = []
    for section in sorted(docs.glob("benchmarks-*.md")):
        text = section.read_text().strip()
        body = "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())
        found += [f"<!-- from {section.name} -->", body, ""]
    return found
