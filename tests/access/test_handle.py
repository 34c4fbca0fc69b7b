"""One handle per caller (decision 0313): a handle acts only as its caller, holds no store, and the system's own
work through `for_system` is audited as the system — on both databases."""

from __future__ import annotations

import re

import pytest

from joinedup.access.audit.trail import now_micros
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle, SystemHandle
from joinedup.fhir.errors import Forbidden
from joinedup.identity.index_store import PURPOSE, IndexStore

from ..web import place
from .conftest import GP, NURSE

IG = AccessContext(user="PractitionerRole/role-ig-1", role="ig-manager", organisation=f"Organization/{place.PLACE.id}")
RESIDENT = AccessContext(user="Patient/pat-1", role="resident")


def _last_seq(gate: AccessGate) -> int:
    entries = gate.audit.entries()
    return entries[-1].seq if entries else 0


def test_a_handle_holds_no_store_and_takes_no_context(gate: AccessGate) -> None:
    caller = gate.for_caller(GP)
    assert not hasattr(gate, "store")
    assert not any(hasattr(caller, name) for name in ("store", "_store", "engine"))
    assert caller.context is GP
    assert caller.read("Patient", "pat-1").content["id"] == "pat-1"
    with pytest.raises(TypeError):
        caller.read(NURSE, "Patient", "pat-1")  # type: ignore[call-arg]


def test_governance_reads_are_checked_by_capability(gate: AccessGate) -> None:
    for refused in (
        lambda: gate.for_caller(NURSE).audit_between(0, now_micros()),
        lambda: gate.for_caller(NURSE).unusual_access(0, now_micros()),
        lambda: gate.for_caller(GP).audit_entries([1]),
        lambda: gate.for_caller(GP).own_access_log(),
        lambda: gate.for_caller(IG).own_access_log(),
        lambda: gate.for_caller(GP).break_glass_awaiting_review(),
    ):
        with pytest.raises(Forbidden):
            refused()
    gate.for_caller(GP).read("Patient", "pat-1")
    log = gate.for_caller(RESIDENT).own_access_log()
    assert any(e.user == GP.user and "pat-1" in e.patients for e in log)


def test_the_unusual_access_report_reads_names_as_the_system_and_is_audited(gate: AccessGate) -> None:
    gate.for_caller(GP).read("Patient", "pat-1")
    start = _last_seq(gate)
    gate.for_caller(IG).unusual_access(0, now_micros() + 1)
    after = gate.audit.entries(since_seq=start)
    system_reads = [e for e in after if e.user == "Device/unusual-access"]
    assert system_reads, "the report's reads of staff and people are in the audit trail"
    assert {e.role for e in system_reads} == {"system"} and {e.action for e in system_reads} == {"search"}
    assert any(GP.user.split("/")[1] in " ".join(e.what) for e in system_reads)  # the GP's staff record was read


def test_the_person_index_bulk_write_is_audited_as_the_system(gate: AccessGate) -> None:
    system = gate.for_system(PURPOSE)
    assert isinstance(system, SystemHandle) and system.context.user == "Device/person-index"
    person = {
        "resourceType": "Person", "id": "bulk-person", "active": True,
        "link": [{"target": {"reference": "Patient/pat-2"}, "assurance": "level4"}],
    }  # fmt: skip
    start = _last_seq(gate)
    IndexStore(system).write_batch([person])
    entry = next(e for e in gate.audit.entries(since_seq=start) if e.action == "bulk-write")
    assert (entry.user, entry.role, entry.outcome) == ("Device/person-index", "system", "success")
    assert entry.what == ["Person/bulk-person"] and entry.patients == ["pat-2"]
    assert system.read("Person", "bulk-person").content["id"] == "bulk-person"


def test_only_the_system_handle_writes_in_bulk(gate: AccessGate) -> None:
    caller = gate.for_caller(GP)
    assert isinstance(caller, CallerHandle) and not hasattr(caller, "bulk_write")
    with pytest.raises(Forbidden):
        IndexStore(caller).write_batch([{"resourceType": "Person", "id": "not-written", "active": True}])


def test_reading_the_whole_place_for_the_population_views_is_one_audited_system_read(gate: AccessGate) -> None:
    start = _last_seq(gate)
    rows = [row for batch in gate.for_system("population-views").current_resources(50) for row in batch]
    assert {"Patient", "Organization"} <= {t for t, _, _ in rows}
    [entry] = [e for e in gate.audit.entries(since_seq=start) if e.user == "Device/population-views"]
    assert (entry.action, entry.outcome, entry.detail["returned"]) == ("read-all", "success", len(rows))


RECORD_METHODS = (
    "read|vread|search|compartment_search|history|everything|withholds|create|update|conditional_update|patch|"
    "delete|conditional_delete|transaction|batch|export_kick_off|export_status|export_cancel|export_file"
)


def test_nothing_outside_access_calls_the_gate_with_a_context_of_its_own() -> None:
    """Outside access/, records are reached through a handle: the gate's own methods (which take a context) are
    called nowhere else, and nothing names its private store. (The gate itself is still used outside access/ for
    signing in and out: tokens, accounts, sessions and their audit entries, before there is a caller.)"""
    from pathlib import Path

    import joinedup

    src = Path(joinedup.__file__).parent
    direct = re.compile(rf"\bgate(\(request\))?\.({RECORD_METHODS})\(|\b_store\b|\bgate\.store\b")
    found = [
        f"{path.relative_to(src)}:{n}: {line.strip()}"
        for path in sorted(src.rglob("*.py"))
        if path.relative_to(src).parts[0] != "access"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if direct.search(line)
    ]
    assert found == []
