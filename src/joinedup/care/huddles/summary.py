"""The huddle page's one-screen summary of each person on an agenda, from every partner, read through the caller's
handle (so each member sees what their own relationship and the person's choices allow, audited as any read).

People, not records: the Patient records on an agenda are grouped into people by valid NHS number (the population's
own fallback when there is no person index link), so a person with a GP and a hospital record is one summary made
from both. Problems, risk and frailty (the record's own, and the population refresh's level, risk and reasons for
the person when there are results), recent admissions, open referrals and tasks, care plans and who is involved
(care teams, key workers) come from web/summary.py, as on the record page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.fhir.nhs_number import is_valid
from joinedup.population.case_finding import PopulationFinding, population_findings
from joinedup.web.banner import Banner, banner_for
from joinedup.web.fhir_display import concept, long_date, nhs_number
from joinedup.web.record_resources import RecordResources
from joinedup.web.summary import Summary, SummaryLine, summarise

from .model import WHY_SHOWN, Action

Resource = dict[str, Any]
EVERYTHING_PAGE = 1000
ADMISSION_CLASSES = frozenset({"IMP", "EMER", "ACUTE", "NONAC"})
RECENT = timedelta(days=365)


@dataclass(frozen=True)
class Person:
    """One person: their Patient records the caller may see, the first the one to show and link to."""

    patient_ids: tuple[str, ...]
    name: str
    born: str
    nhs_number: str | None

    @property
    def main(self) -> str:
        return self.patient_ids[0]


def _name(patient: Resource) -> str:
    from joinedup.web.fhir_display import human_name

    return human_name(patient.get("name")) or "Name not recorded"


def people_of(patient_ids: Sequence[str], shown: dict[str, Resource]) -> tuple[list[Person], int]:
    """The records the caller may see grouped into people (in list order), and how many listed records they may not
    see (a count only: the records themselves are not said to exist)."""
    groups: dict[str, list[str]] = {}
    hidden = 0
    for pid in dict.fromkeys(patient_ids):
        patient = shown.get(pid)
        if patient is None:
            hidden += 1
            continue
        number = nhs_number(patient)
        key = f"nhs:{number}" if number and is_valid(number) else f"rec:{pid}"
        groups.setdefault(key, []).append(pid)
    people = []
    for ids in groups.values():
        first = shown[ids[0]]
        number = nhs_number(first)
        people.append(Person(tuple(ids), _name(first), long_date(first.get("birthDate")), number))
    return people, hidden


@dataclass
class HuddleSummary:
    person: Person
    why: list[str]
    banner: Banner
    summary: Summary
    admissions: list[SummaryLine]
    population: PopulationFinding | None
    actions: list[Action]


def _everything(caller: CallerHandle, patient_id: str) -> list[Resource]:
    found: list[Resource] = []
    offset = 0
    while True:
        page = caller.everything(patient_id, None, None, EVERYTHING_PAGE, offset)
        found.extend(page.matches)
        if not page.has_next:
            return found
        offset += EVERYTHING_PAGE


def recent_admissions(record: RecordResources, today: date) -> list[SummaryLine]:
    """Hospital stays (inpatient or emergency encounters) in the last year, newest first."""
    found: list[tuple[str, SummaryLine]] = []
    for encounter in record.of_type("Encounter"):
        kind = str((encounter.get("class") or {}).get("code") or "")
        start = str((encounter.get("period") or {}).get("start") or "")
        if kind not in ADMISSION_CLASSES or not start or start[:10] < (today - RECENT).isoformat():
            continue
        what = concept((encounter.get("type") or [{}])[0]) or "Hospital stay"
        until = (encounter.get("period") or {}).get("end")
        detail = f"Until {long_date(until)}" if until else "Still in hospital"
        found.append((start, SummaryLine(what, detail, record.source(encounter).name, long_date(start))))
    return [line for _, line in sorted(found, key=lambda pair: pair[0], reverse=True)]


def summarise_person(caller: CallerHandle, person: Person, why: list[str], actions: list[Action],
                     population_db: Path | None, today: date) -> HuddleSummary:  # fmt: skip
    everything = RecordResources.sorted_from(
        (r for pid in person.patient_ids for r in _everything(caller, pid)), person.patient_ids
    )
    main = next((p for p in everything.patients if p.get("id") == person.main), {"id": person.main})
    findings = population_findings(population_db, person.patient_ids) if population_db is not None else {}
    finding = next((findings[pid] for pid in person.patient_ids if pid in findings), None)
    return HuddleSummary(
        person=person,
        why=[WHY_SHOWN.get(w, w) for w in why],
        banner=banner_for(main, everything, today),
        summary=summarise(everything, everything.patients),
        admissions=recent_admissions(everything, today),
        population=finding,
        actions=[a for a in actions if a.patient_id in person.patient_ids],
    )
