"""The single point of access's measures, per month of contact (decision 0503): contacts by route, the share
resolved at first contact, and the time from contact to triage decision by urgency (median and 90th centile).

Definitions (also on the page):
- a contact counts in the month (UTC) its triage Task was authored;
- resolved at first contact: of the contacts decided, those whose outcome resolves at first contact (advice or
  signposting, declined: vocabulary triage_outcomes `resolves_at_first_contact`);
- time to decision: executionPeriod.end − authoredOn of decided contacts, in hours; the median is the middle value
  (the mean of the two middle values for an even count), the 90th centile the nearest-rank value (the ⌈0.9·n⌉-th
  smallest). Open contacts are not in the times.
Operational figures about a service, no personal data: small numbers are shown as they are.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import SPA_MEASURES_READ
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.search_request import parse_search

from .model import Contact

PAGE = 1000


@dataclass(frozen=True)
class Times:
    decided: int
    median_hours: float | None
    centile_90_hours: float | None


@dataclass
class Month:
    month: str  # YYYY-MM
    by_route: dict[str, int] = field(default_factory=dict)
    decided: int = 0
    resolved_at_first_contact: int = 0
    times: dict[str, Times] = field(default_factory=dict)

    @property
    def contacts(self) -> int:
        return sum(self.by_route.values())

    @property
    def resolved_share(self) -> float | None:
        return self.resolved_at_first_contact / self.decided if self.decided else None


def nearest_rank(values: list[float], centile: float) -> float | None:
    """The nearest-rank centile: the ⌈p·n⌉-th smallest value (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(centile * len(ordered)), 1) - 1]


def measures_of(contacts: Iterable[Contact]) -> list[Month]:
    """The figures per month, oldest first, from contacts read back (each with its Task)."""
    words = vocabulary()
    resolving = {c.code for c in words.table("triage_outcomes").values() if c.extra.get("resolves_at_first_contact")}
    months: dict[str, Month] = {}
    hours: dict[tuple[str, str], list[float]] = {}
    for contact in contacts:
        received = contact.received
        if received is None:
            continue
        month = months.setdefault(f"{received:%Y-%m}", Month(f"{received:%Y-%m}"))
        month.by_route[contact.route] = month.by_route.get(contact.route, 0) + 1
        if contact.is_open or contact.decided is None:
            continue
        month.decided += 1
        month.resolved_at_first_contact += contact.outcome in resolving
        hours.setdefault((month.month, contact.urgency), []).append((contact.decided - received).total_seconds() / 3600)
    for month in months.values():
        for urgency in words.table("urgencies"):
            values = hours.get((month.month, urgency), [])
            median = statistics.median(values) if values else None
            month.times[urgency] = Times(len(values), median, nearest_rank(values, 0.9))
    return [months[key] for key in sorted(months)]


def _contacts(caller: CallerHandle, spas: list[str]) -> Iterator[Contact]:
    offset = 0
    while True:
        pairs = [("code", f"{vocabulary().system('work_kind')}|triage"), ("owner", ",".join(spas)),
                 ("_include", "Task:focus"), ("_count", str(PAGE)), ("_offset", str(offset))]  # fmt: skip
        page = caller.search(parse_search("Task", pairs))
        focus = {f"Communication/{r['id']}": r for r in page.included if r.get("resourceType") == "Communication"}
        for task in page.matches:
            yield Contact(task, focus.get(str((task.get("focus") or {}).get("reference")), {}))
        if not page.has_next:
            return
        offset += PAGE


def spa_measures(caller: CallerHandle, reader: CallerHandle, spas: list[str]) -> list[Month]:
    """The measures of these single points of access. The caller needs SPA_MEASURES_READ; the contacts are read
    by `reader`, the system's handle (audited as the system's work for this purpose): a decided contact no longer
    gives its service a relationship with the person, yet it still counts, and the page shows only aggregates."""
    caller.require(SPA_MEASURES_READ)
    return measures_of(_contacts(reader, spas)) if spas else []
