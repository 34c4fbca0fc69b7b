"""The ground truth, kept out of the feeds: which true person each source Patient is, and each resident's true
chance of an emergency admission in the year after the index date with what happened."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

from .records import TruthRow


def person_id(person: int) -> str:
    return f"person-{person:07d}"


class TruthWriter:
    def __init__(self, truth_dir: Path) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self._persons: IO[str] = (truth_dir / "persons.csv").open("w", newline="")
        self._risk: IO[str] = (truth_dir / "risk.csv").open("w", newline="")
        self.persons = csv.writer(self._persons, lineterminator="\n")
        self.risk = csv.writer(self._risk, lineterminator="\n")
        self.persons.writerow(["source", "patient_id", "person_id", "mess"])
        self.risk.writerow(["person_id", "age_at_index", "true_probability", "outcome"])

    def patients(self, rows: list[TruthRow]) -> None:
        for row in rows:
            self.persons.writerow([row.source, row.patient_id, person_id(row.person), ";".join(row.flags)])
        rows.clear()

    def resident(self, person: int, age: float, probability: float, outcome: int) -> None:
        self.risk.writerow([person_id(person), f"{age:.1f}", f"{probability:.6f}", outcome])

    def close(self) -> None:
        self._persons.close()
        self._risk.close()
