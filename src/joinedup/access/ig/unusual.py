"""Unusual access, found in the audit trail for the IG manager (decision 0320).

Two rules, each finding linking to the audit entries behind it:

- **Same surname and address**: a user opened the record of someone who shares their family name and home address
  (postcode and first line, compared without case or spaces). The user's own details come from their Practitioner
  resource (a PractitionerRole user's `practitioner`). Looking up a relative or a neighbour is the classic
  misuse a shared record invites.
- **Many more records than their peers**: per role, the number of different people each user opened in the period;
  a user is flagged when their count is above Q3 + 3 × IQR of their role's counts (Tukey's "far out" fence). Robust
  to the outlier itself (unlike a mean and standard deviation, which the outlier inflates), needs no distribution,
  and says nothing about roles with fewer than MIN_PEERS users, where "peers" is not a fair comparison.

The names and addresses compared are read through the system's handle (`gate.for_system("unusual-access")`), so
each read is in the audit trail as the system's, a search per hundred records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import quantiles
from typing import TYPE_CHECKING, Any

from ..audit.trail import AuditEntry

if TYPE_CHECKING:
    from ..handle import SystemHandle

ACCESS_ACTIONS = frozenset({"read", "vread", "search", "everything", "history"})
FENCE = 3.0  # × IQR above Q3
MIN_PEERS = 4  # users of the same role needed for a peer comparison


@dataclass(frozen=True)
class Finding:
    rule: str  # "same-surname-and-address" or "many-more-than-peers"
    user: str
    role: str | None
    summary: str
    patients: tuple[str, ...]
    seqs: tuple[int, ...]  # the audit entries behind it
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Household:
    family: frozenset[str]
    addresses: frozenset[str]

    def shares_with(self, other: Household) -> bool:
        return bool(self.family & other.family) and bool(self.addresses & other.addresses)


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def household_of(resource: dict[str, Any] | None) -> Household:
    """Family names and home addresses (first line + postcode) of a Patient or Practitioner."""
    if not resource:
        return Household(frozenset(), frozenset())
    families = {_squash(str(n.get("family", ""))) for n in resource.get("name") or [] if n.get("family")}
    addresses = set()
    for address in resource.get("address") or []:
        if address.get("use") in ("work", "old", "billing"):
            continue
        line = (address.get("line") or [""])[0]
        postcode = address.get("postalCode") or ""
        if line and postcode:
            addresses.add(f"{_squash(str(line))}|{_squash(str(postcode))}")
    return Household(frozenset(families), frozenset(addresses))


def practitioners_of(system: SystemHandle, users: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The Practitioner behind each user reference (a PractitionerRole's practitioner, or the Practitioner itself);
    users without one are left out."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for user in users:
        kind, _, user_id = user.partition("/")
        by_kind[kind].append(user_id)
    roles = system.contents("PractitionerRole", by_kind["PractitionerRole"])
    behind: dict[str, str] = {f"Practitioner/{i}": i for i in by_kind["Practitioner"]}
    for role_id, staff_role in roles.items():
        reference = str((staff_role.get("practitioner") or {}).get("reference", ""))
        if reference.startswith("Practitioner/"):
            behind[f"PractitionerRole/{role_id}"] = reference.split("/", 1)[1]
    found = system.contents("Practitioner", sorted(set(behind.values())))
    return {user: found[pid] for user, pid in behind.items() if pid in found}


def accesses(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Entries in which a person's record was looked at (successfully or not) by someone other than themselves."""
    return [
        e
        for e in entries
        if e.action in ACCESS_ACTIONS and e.patients and not e.user.startswith(("Patient/", "Device/"))
    ]


def same_surname_and_address(system: SystemHandle, entries: Sequence[AuditEntry]) -> list[Finding]:
    looked = accesses(entries)
    staff = practitioners_of(system, sorted({e.user for e in looked}))
    users = {user: household_of(practitioner) for user, practitioner in staff.items()}
    users = {user: h for user, h in users.items() if h.family and h.addresses}
    wanted = sorted({p for e in looked if e.user in users for p in e.patients})
    people = {pid: household_of(patient) for pid, patient in system.contents("Patient", wanted).items()}
    hits: dict[tuple[str, str], list[AuditEntry]] = defaultdict(list)
    for entry in looked:
        mine = users.get(entry.user)
        if mine is None:
            continue
        for patient in entry.patients:
            if patient in people and mine.shares_with(people[patient]):
                hits[(entry.user, patient)].append(entry)
    return [
        Finding(
            "same-surname-and-address",
            user,
            found[-1].role,
            f"Opened the record of someone with their surname at their address ({len(found)} times)",
            (patient,),
            tuple(e.seq for e in found),
        )
        for (user, patient), found in sorted(hits.items())
    ]


def fence(counts: Sequence[int]) -> tuple[float, float, float]:
    """(Q1, Q3, upper fence Q3 + FENCE × IQR) of the counts (inclusive quartiles)."""
    q1, _median, q3 = quantiles(counts, n=4, method="inclusive")
    return q1, q3, q3 + FENCE * (q3 - q1)


def many_more_than_peers(entries: Sequence[AuditEntry]) -> list[Finding]:
    opened: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    behind: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for entry in accesses(entries):
        opened[(entry.role, entry.user)].update(entry.patients)
        behind[(entry.role, entry.user)].append(entry.seq)
    by_role: dict[str | None, dict[str, int]] = defaultdict(dict)
    for (role, user), patients in opened.items():
        by_role[role][user] = len(patients)
    findings = []
    for role, counts in sorted(by_role.items(), key=lambda item: str(item[0])):
        if len(counts) < MIN_PEERS:
            continue
        q1, q3, upper = fence(sorted(counts.values()))
        for user, count in sorted(counts.items()):
            if count > upper:
                findings.append(
                    Finding(
                        "many-more-than-peers",
                        user,
                        role,
                        f"Opened {count} people's records; their {len(counts)} peers' upper fence is {upper:g}",
                        tuple(sorted(opened[(role, user)])),
                        tuple(behind[(role, user)]),
                        {"count": count, "q1": q1, "q3": q3, "fence": upper, "peers": len(counts)},
                    )
                )
    return findings


def unusual_access(system: SystemHandle, entries: Sequence[AuditEntry]) -> list[Finding]:
    return same_surname_and_address(system, entries) + many_more_than_peers(entries)
