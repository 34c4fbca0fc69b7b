"""The place against its calibration targets: a mid-size place within widened tolerances, and the embedded
targets against ../shared/reference when it is beside the project."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_place
from joinedup.synth.tables import table

MID_SIZE = 20_000
WIDER = 2.0  # tolerances are stated for 239,000 residents; a tenth of the size gets twice the room
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def _auc(probabilities: list[float], outcomes: list[int]) -> float:
    ranked = sorted(zip(probabilities, outcomes, strict=True))
    positives = sum(outcomes)
    negatives = len(outcomes) - positives
    rank_sum = sum(rank for rank, (_, outcome) in enumerate(ranked, start=1) if outcome)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


@pytest.mark.slow
def test_a_mid_size_place_meets_every_target_within_wider_tolerances(tmp_path: Path) -> None:
    summary = generate_place(tmp_path / "mid", SynthConfig(people=MID_SIZE, seed=11))
    missed = [f"{r.measure}: {r.generated} vs {r.target}" for r in summary.calibration if r.within(WIDER) is False]
    assert missed == []
    with (summary.out_dir / "truth" / "risk.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    probabilities = [float(r["true_probability"]) for r in rows]
    outcomes = [int(r["outcome"]) for r in rows]
    # The truth carries real signal, and the outcomes follow the stated probabilities.
    assert 0.70 < _auc(probabilities, outcomes) < 0.90
    assert sum(outcomes) == pytest.approx(sum(probabilities), rel=0.08)


def test_the_embedded_targets_match_the_shared_reference() -> None:
    reference = SHARED / "reference" / "place-calibration.md"
    if not reference.is_file():
        pytest.skip(f"../shared is absent ({reference} not found): the cross-check needs it beside the project")
    text = reference.read_text()
    numbers = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
    for target in table("calibration")["targets"]:
        if target["target"] is None or target["key"] == "most_deprived_fifth_pct":  # "about 1 in 3"
            continue
        assert float(target["target"]) in numbers, target["measure"]
        if target["kind"] == "relative":
            assert round(target["tolerance"] * 100) in numbers, target["measure"]
        elif target["kind"] == "points":
            assert float(target["tolerance"]) in numbers, target["measure"]
