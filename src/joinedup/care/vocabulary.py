"""Care coordination's codes and clocks, read once from versioned data (`data/coordination.json`).

Urgencies and their clocks, the steps of a referral (each with the FHIR Task status it puts the Task in), triage
outcomes, contact routes and the reasons a service may decline are policy, so they live in data, not in the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str
    extra: dict[str, Any]

    def concept(self) -> dict[str, Any]:
        """As a CodeableConcept."""
        return {"coding": [self.coding()], "text": self.display}

    def coding(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class Vocabulary:
    version: str
    systems: dict[str, str]
    tables: dict[str, dict[str, Code]]

    def table(self, name: str) -> dict[str, Code]:
        return self.tables[name]

    def get(self, name: str, code: str) -> Code:
        """One code of a table; KeyError names the table for an unknown one."""
        try:
            return self.tables[name][code]
        except KeyError:
            raise KeyError(f"'{code}' is not one of the {name.replace('_', ' ')}") from None

    def system(self, name: str) -> str:
        return self.systems[name]

    def clock(self, urgency: str) -> timedelta:
        """How long a referral or contact of this urgency may wait for its decision."""
        return timedelta(hours=int(self.get("urgencies", urgency).extra["clock_hours"]))

    def urgency_of_priority(self, priority: str | None) -> str:
        """The urgency a FHIR request priority stands for (routine when none is given)."""
        for code in self.tables["urgencies"].values():
            if code.extra["priority"] == priority:
                return code.code
        return "routine"


_SYSTEM_OF = {
    "urgencies": "urgency",
    "referral_steps": "referral_step",
    "triage_outcomes": "triage_outcome",
    "contact_routes": "contact_route",
    "contact_from": "contact_from",
    "decline_reasons": "decline_reason",
    "work_kinds": "work_kind",
    "flag_kinds": "flag_kind",
    "list_kinds": "list_kind",
    "group_kinds": "group_kind",
}


@cache
def vocabulary() -> Vocabulary:
    text = resources.files("joinedup.care").joinpath("data", "coordination.json").read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    systems = {str(k): str(v) for k, v in raw["systems"].items()}
    tables: dict[str, dict[str, Code]] = {}
    for table, system_name in _SYSTEM_OF.items():
        tables[table] = {
            str(row["code"]): Code(
                systems[system_name],
                str(row["code"]),
                str(row["display"]),
                {k: v for k, v in row.items() if k not in {"code", "display"}},
            )
            for row in raw[table]
        }
    return Vocabulary(str(raw["version"]), systems, tables)
