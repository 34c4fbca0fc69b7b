"""Each MDG's case-finding list for direct care, published as a FHIR List by the system (decision 0505).

The population refresh finds the people (population/case_finding.py) under pseudonymised keys; this module, run as
the system (`gate.for_system(PURPOSE)`, audited as 'Device/mdg-case-finding') after a refresh or when a coordinator
asks, turns each MDG's neighbourhood's list into a List of Patient references whose subject is the Group. The gate
then gives the MDG's members a care relationship with those people while the List is current.

At publication every person is checked again against the store as it is now, whatever the refresh saw: anyone with
an active objection on any of their records (objection to sharing, opt-out of secondary use, or any other active
Consent that denies), anyone who has died and any record no longer in the store is left off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joinedup.access.consent_codes import CONSENT_CATEGORY, OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE
from joinedup.access.handle import SystemHandle
from joinedup.fhir.search_request import parse_search
from joinedup.population.case_finding import DirectCareCandidate

from .model import Mdg, case_finding_list, list_kind_token, listed_patients, mdg_token

PURPOSE = "mdg-case-finding"
LIST_PAGE = 1000
Resource = dict[str, Any]
Candidates = Callable[[str], Sequence[DirectCareCandidate]]  # neighbourhood -> its case-finding list


@dataclass
class Publication:
    """What one publication did, in counts (never who)."""

    lists_written: int = 0
    lists_unchanged: int = 0
    people_listed: int = 0
    people_left_off: dict[str, int] = field(default_factory=dict)

    def left_off(self, why: str) -> None:
        self.people_left_off[why] = self.people_left_off.get(why, 0) + 1


def mdgs(system: SystemHandle) -> list[Mdg]:
    page = system.search(parse_search("Group", [("code", mdg_token()), ("_count", str(LIST_PAGE))]))
    return [Mdg(g) for g in page.matches if g.get("active") is not False]


def current_case_finding(system: SystemHandle, group_id: str) -> list[Resource]:
    pairs = [("subject", f"Group/{group_id}"), ("code", list_kind_token("case-finding")), ("status", "current"),
             ("_count", str(LIST_PAGE))]  # fmt: skip
    return system.search(parse_search("List", pairs)).matches


def objects(consent: Resource) -> bool:
    """An active Consent that takes a person off a direct-care case-finding list (decision 0505): an objection to
    sharing or an opt-out of secondary use, by category, or any other active Consent whose provision denies."""
    if consent.get("status") != "active":
        return False
    codes = {
        c.get("code")
        for cc in consent.get("category") or []
        for c in cc.get("coding") or []
        if c.get("system") == CONSENT_CATEGORY
    }
    return bool(codes & {OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE}) or (
        (consent.get("provision") or {}).get("type") == "deny"
    )


def _objectors(system: SystemHandle, patient_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(set(patient_ids))
    for start in range(0, len(wanted), 100):
        chunk = wanted[start : start + 100]
        pairs = [("patient", ",".join(f"Patient/{p}" for p in chunk)), ("status", "active"), ("_count", "1000")]
        for consent in system.search(parse_search("Consent", pairs)).matches:
            if objects(consent):
                found.add(str((consent.get("patient") or {}).get("reference", "")).partition("/")[2])
    return found


def _died(patient: Resource) -> bool:
    return bool(patient.get("deceasedBoolean")) or bool(patient.get("deceasedDateTime"))


def eligible(system: SystemHandle, candidates: Sequence[DirectCareCandidate], report: Publication) -> list[str]:
    """The records to list, person by person in rank order: a person is listed whole (every record the store still
    holds) or not at all."""
    every = [pid for c in candidates for pid in c.patient_ids]
    patients = system.contents("Patient", every)
    objectors = _objectors(system, every)
    listed: list[str] = []
    for candidate in sorted(candidates, key=lambda c: c.rank):
        held = [pid for pid in candidate.patient_ids if pid in patients]
        if not held:
            report.left_off("no record in the store")
        elif any(pid in objectors for pid in candidate.patient_ids):
            report.left_off("objected")
        elif any(_died(patients[pid]) for pid in held):
            report.left_off("died")
        else:
            listed.extend(pid for pid in held if pid not in listed)
            report.people_listed += 1
    return listed


def publish_for(system: SystemHandle, mdg: Mdg, candidates: Candidates, report: Publication,
                now: datetime | None = None) -> str | None:  # fmt: skip
    """Publish one MDG's list: the new List and the older current ones retired in one transaction. Nothing is
    written when the people are the same as on the current list. Returns the current List's id."""
    listed = eligible(system, candidates(mdg.neighbourhood_key), report) if mdg.neighbourhood_key else []
    current = current_case_finding(system, mdg.id)
    if len(current) == 1 and listed_patients(current[0]) == listed:
        report.lists_unchanged += 1
        return str(current[0]["id"])
    entries: list[Resource] = [
        {"resource": {**old, "status": "retired"}, "request": {"method": "PUT", "url": f"List/{old['id']}"}}
        for old in current
    ]
    made = case_finding_list(mdg.id, listed, now or datetime.now(UTC))
    entries.append({"fullUrl": "urn:uuid:case-finding", "resource": made, "request": {"method": "POST",
                                                                                        "url": "List"}})  # fmt: skip
    results = system.write_together({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    report.lists_written += 1
    location = str(getattr(results[-1], "location", "") or "")
    return location.split("/_history/")[0].partition("/")[2] or None


def publish_case_finding(system: SystemHandle, candidates: Candidates, group_id: str | None = None,
                         now: datetime | None = None) -> Publication:  # fmt: skip
    """Every MDG's list (or one MDG's), from `candidates` (population.case_finding.direct_care_candidates)."""
    report = Publication()
    for mdg in mdgs(system):
        if group_id is None or mdg.id == group_id:
            publish_for(system, mdg, candidates, report, now)
    return report
