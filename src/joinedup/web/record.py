"""The integrated record of one person, read through the caller's handle: `record_for(caller, patient_ids)`.

A person may have several Patient records (one per source); the person index will hand this page the set of
linked ids. Each id's `$everything` comes through the gate; the union is the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.triage.flags import ShownFlag, shown_flags
from joinedup.fhir.errors import NotFound

from .banner import Banner, banner_for
from .record_resources import RecordResources, SourceOrg
from .summary import Summary, summarise
from .timeline import TimelineEntry, build
from .withheld import WithheldNotice

Resource = dict[str, Any]
EVERYTHING_PAGE = 1000


@dataclass
class Record:
    patient_ids: list[str]
    banner: Banner
    summary: Summary
    timeline: list[TimelineEntry]
    withheld: WithheldNotice
    organisations: list[SourceOrg]
    kinds: list[str]
    flags: list[ShownFlag]  # the vulnerable person protocol's active flags (care coordination, decision 0503)


def _everything(caller: CallerHandle, patient_id: str) -> Iterator[Resource]:
    offset = 0
    while True:
        page = caller.everything(patient_id, None, None, EVERYTHING_PAGE, offset)
        yield from page.matches
        if not page.has_next:
            return
        offset += EVERYTHING_PAGE


def _read(caller: CallerHandle, patient_ids: list[str]) -> tuple[RecordResources, Resource]:
    found = [resource for pid in patient_ids for resource in _everything(caller, pid)]
    everything = RecordResources.sorted_from(found, patient_ids)
    main = next((p for pid in patient_ids for p in everything.patients if p.get("id") == pid), None)
    if main is None:
        raise NotFound("None of these Patient records can be shown")
    return everything, main


def record_for(caller: CallerHandle, patient_ids: list[str], today: date | None = None) -> Record:
    """Raises the gate's NotFound/Forbidden when the first (main) Patient cannot be read."""
    everything, main = _read(caller, patient_ids)
    entries = build(everything.clinical, everything)
    organisations = sorted({e.source for e in entries}, key=lambda s: s.name)
    return Record(
        patient_ids=list(patient_ids),
        banner=banner_for(main, everything, today or date.today()),
        summary=summarise(everything, everything.patients),
        timeline=entries,
        withheld=WithheldNotice(any(caller.withholds(pid) for pid in patient_ids)),
        organisations=organisations,
        kinds=sorted({e.kind for e in entries}),
        flags=shown_flags(everything.clinical),
    )


def timeline_for(caller: CallerHandle, patient_ids: list[str]) -> list[TimelineEntry]:
    """The timeline alone, for htmx's filtered or further pages: the same read through the gate (audited the
    same way), without the banner, summary and withheld check the partial does not show."""
    everything, _ = _read(caller, patient_ids)
    return build(everything.clinical, everything)
