"""Publishing each MDG's case-finding list for direct care (decision 0505), on both databases: the right
neighbourhood only, every record of a listed person, objectors off, and the relationship the gate draws from it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from joinedup.access.gate import AccessGate
from joinedup.care.huddles.model import list_kind_token
from joinedup.fhir.errors import NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.population.command import run_refresh
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ...web import place
from . import neighbourhood as hood
from .conftest import Huddles


def _current(h: Huddles, group_id: str) -> list[dict[str, object]]:
    system = h.gate.for_system("huddle-tests")
    pairs = [("subject", f"Group/{group_id}"), ("status", "current")]
    return system.search(parse_search("List", pairs)).matches


def _listed(resource: dict[str, object]) -> set[str]:
    entries = resource.get("entry") or []
    assert isinstance(entries, list)
    return {str(e["item"]["reference"]).partition("/")[2] for e in entries}


def test_each_mdg_lists_its_own_neighbourhood_without_the_objector(huddles: Huddles) -> None:
    riverside, hillcrest = _current(huddles, hood.RIVERSIDE), _current(huddles, hood.HILLCREST)
    assert len(riverside) == 1 and len(hillcrest) == 1
    listed = riverside[0]
    assert listed["mode"] == "snapshot" and listed["status"] == "current"
    assert listed["subject"] == {"reference": f"Group/{hood.RIVERSIDE}"}
    # Agnes with both records; Cora objected to sharing after the refresh and is left off; nobody from ZS2.
    expected = {hood.AGNES.patient_id, hood.AGNES_HOSPITAL, hood.BERNARD.patient_id, hood.DESMOND.patient_id}
    assert _listed(listed) == expected
    assert _listed(hillcrest[0]) == {hood.ELSIE.patient_id, hood.FRANK.patient_id}
    assert all("display" not in e["item"] for e in listed["entry"])  # type: ignore[union-attr]
    assert huddles.first.people_left_off == {"objected": 1}
    assert huddles.first.lists_written == 2


def test_publishing_again_writes_nothing_new_unless_the_people_change(huddles: Huddles) -> None:
    again = hood.publish(huddles.gate, huddles.population_db)
    assert again.lists_written == 0 and again.lists_unchanged == 2
    hood.object_to_sharing(huddles.gate, hood.BERNARD.patient_id)
    changed = hood.publish(huddles.gate, huddles.population_db)
    assert changed.lists_written == 1 and changed.people_left_off == {"objected": 2}
    current = _current(huddles, hood.RIVERSIDE)
    assert len(current) == 1 and hood.BERNARD.patient_id not in _listed(current[0])
    system = huddles.gate.for_system("huddle-tests")
    retired = system.search(parse_search("List", [("subject", f"Group/{hood.RIVERSIDE}"), ("status", "retired")]))
    assert len(retired.matches) == 1 and hood.BERNARD.patient_id in _listed(retired.matches[0])


def test_members_gain_the_relationship_and_others_do_not(huddles: Huddles) -> None:
    nurse = hood.caller(huddles.gate, hood.DISTRICT_NURSE)
    shown = nurse.read("Patient", hood.AGNES.patient_id).content or {}
    assert shown["name"][0]["family"] == hood.AGNES.family
    assert nurse.read("Patient", hood.AGNES_HOSPITAL).content  # every record of a listed person
    with pytest.raises(NotFound):
        nurse.read("Patient", hood.ELSIE.patient_id)  # another neighbourhood's person
    with pytest.raises(NotFound):
        nurse.read("Patient", hood.CORA.patient_id)  # the objector is not on the list
    other = hood.caller(huddles.gate, hood.MENTAL_HEALTH)  # a member of the other neighbourhood's MDG
    with pytest.raises(NotFound):
        other.read("Patient", hood.AGNES.patient_id)
    assert other.read("Patient", hood.ELSIE.patient_id).content
    # audited as usual: the nurse's read names the person
    entries = huddles.gate.audit.entries(since_seq=0)
    assert any(
        e.user == f"PractitionerRole/{hood.DISTRICT_NURSE}" and hood.AGNES.patient_id in e.patients for e in entries
    )


def test_the_relationship_ends_when_the_list_is_retired(huddles: Huddles) -> None:
    nurse = hood.caller(huddles.gate, hood.DISTRICT_NURSE)
    assert nurse.read("Patient", hood.BERNARD.patient_id).content
    hood.object_to_sharing(huddles.gate, hood.AGNES.patient_id)
    hood.object_to_sharing(huddles.gate, hood.BERNARD.patient_id)
    hood.publish(huddles.gate, huddles.population_db)
    with pytest.raises(NotFound):
        nurse.read("Patient", hood.BERNARD.patient_id)


def test_an_analyst_still_sees_pseudonyms(huddles: Huddles) -> None:
    analyst = hood.analyst(huddles.gate)
    lists = analyst.search(parse_search("List", [("code", list_kind_token("case-finding"))])).matches
    assert lists, "the analyst sees the list's shape"
    refs = {str(e["item"]["reference"]) for r in lists for e in r.get("entry", [])}
    real = {f"Patient/{p}" for p in (hood.AGNES.patient_id, hood.AGNES_HOSPITAL, hood.BERNARD.patient_id)}
    assert refs and not refs & real
    patients = analyst.search(parse_search("Patient", [("_count", "100")])).matches
    assert all("name" not in p for p in patients)


def test_the_population_command_publishes_after_its_refresh(database_url: str, tmp_path: Path) -> None:
    """`joinedup population refresh` (run_refresh) publishes each MDG's list once the tables are written."""
    store = FhirStore(make_engine(database_url))
    place.load(store, place.place(people=3, entries=2))
    store.engine.dispose()
    gate = AccessGate.open(database_url)
    try:
        hood.build(gate)
        settings = Settings(database_url=database_url, environment="test", export_dir=tmp_path / "exports")
        out = io.StringIO()
        run_refresh(settings, tmp_path / "population.duckdb", None, "2024-12-31", None, Console(file=out))
        assert "Case-finding lists for direct care: 2 published" in out.getvalue()
        system = gate.for_system("huddle-tests")
        pairs = [("subject", f"Group/{hood.HILLCREST}"), ("status", "current")]
        [listed] = system.search(parse_search("List", pairs)).matches
        assert _listed(listed) == {hood.ELSIE.patient_id, hood.FRANK.patient_id}
    finally:
        gate.close()
