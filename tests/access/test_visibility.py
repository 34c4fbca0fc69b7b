"""Who may see what, decided inside the SQL: relationships, consent, sensitivity, on every read path, both databases."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from joinedup.access.consent_codes import OBJECTS_TO_SHARING, OPTS_OUT_OF_SECONDARY_USE, objection
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.labels import label
from joinedup.fhir.errors import Forbidden, NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM

from ..web import place
from .conftest import GP, HOSPITAL, MENTAL_HEALTH, NURSE, OTHER_GP, SOCIAL_WORKER, staff


def ids(gate: AccessGate, ctx: AccessContext, resource_type: str, *pairs: tuple[str, str]) -> set[str]:
    page = gate.search(ctx, parse_search(resource_type, [("_count", "1000"), *pairs]))
    return {f"{r['resourceType']}/{r['id']}" for r in page.matches + page.included}


def total(gate: AccessGate, ctx: AccessContext, resource_type: str, *pairs: tuple[str, str]) -> int | None:
    return gate.search(ctx, parse_search(resource_type, [("_total", "accurate"), ("_count", "1"), *pairs])).total


def put(gate: AccessGate, resource: dict[str, Any]) -> None:
    gate._store.update(SYSTEM, resource["resourceType"], resource["id"], resource)


def test_gp_sees_registered_people_only(gate: AccessGate) -> None:
    patients = ids(gate, GP, "Patient")
    assert patients == {f"Patient/pat-{i}" for i in (1, 2, 3, 5, 6, 7)}
    assert total(gate, GP, "Patient") == 6
    assert gate.read(GP, "Patient", "pat-1").id == "pat-1"
    with pytest.raises(NotFound):  # another practice's patient: 404, as if there were none (decision 0301)
        gate.read(GP, "Patient", "pat-0")
    assert ids(gate, OTHER_GP, "Patient") == {"Patient/pat-0", "Patient/pat-4"}


def test_no_relationship_sees_directory_but_no_person(gate: AccessGate) -> None:
    assert ids(gate, HOSPITAL, "Patient") == set()
    assert total(gate, HOSPITAL, "Observation") == 0
    assert "Organization/org-zrm" in ids(gate, HOSPITAL, "Organization")
    with pytest.raises(NotFound):
        gate.everything(HOSPITAL, "pat-1", None, None, 100, 0)


def test_search_by_code_total_includes_and_chains_agree(gate: AccessGate) -> None:
    code = ("code", "271649006")
    seen = ids(gate, OTHER_GP, "Observation", code)
    assert seen and all(r.startswith("Observation/pat-0-") or r.startswith("Observation/pat-4-") for r in seen)
    assert total(gate, OTHER_GP, "Observation", code) == len(seen)
    included = ids(gate, OTHER_GP, "Observation", code, ("_include", "Observation:subject"))
    assert {r for r in included if r.startswith("Patient/")} <= {"Patient/pat-0", "Patient/pat-4"}
    chained = ids(gate, OTHER_GP, "Observation", ("subject:Patient.name", place.person(1).family))
    assert chained == set()  # pat-1 matches the name but is not theirs
    revinclude = ids(gate, OTHER_GP, "Patient", ("_revinclude", "Observation:subject"))
    assert not any("pat-1" in r for r in revinclude)


def test_team_episode_referral_and_task_relationships(gate: AccessGate) -> None:
    everyone = {f"Patient/pat-{i}" for i in range(8)}
    assert ids(gate, SOCIAL_WORKER, "Patient") == everyone  # open episode and task with the council
    assert ids(gate, NURSE, "Patient") == everyone  # open falls referral to community services


def test_relationship_ends_and_access_ends_with_it(gate: AccessGate) -> None:
    who = place.person(1)
    for resource in place.summary_resources(who):
        if resource["resourceType"] == "ServiceRequest":
            resource["status"] = "completed"
            put(gate, resource)
        if resource["resourceType"] == "CareTeam":
            resource["status"] = "inactive"
            put(gate, resource)
    assert "Patient/pat-1" not in ids(gate, NURSE, "Patient")
    with pytest.raises(NotFound):
        gate.read(NURSE, "Procedure", "pat-1-community-2")
    assert "Patient/pat-2" in ids(gate, NURSE, "Patient")


def test_objection_to_sharing_leaves_only_what_the_users_organisation_wrote(gate: AccessGate) -> None:
    def everything() -> set[str]:
        page = gate.everything(GP, "pat-1", None, None, 1000, 0)
        assert page.total == len(page.found)
        return {f"{f.resource_type}/{f.id}" for f in page.found}

    others = ("-acute-", "-community-", "-socialcare-", "-voluntary-", "-episode", "-team", "-task", "-plan")
    assert any(o in r for r in everything() for o in others)
    put(gate, objection("pat-1", OBJECTS_TO_SHARING, "objection-pat-1"))
    after = everything()
    assert "Condition/pat-1-cond-0" in after and "Patient/pat-1" in after  # Riverside wrote these
    assert not any(o in r for r in after for o in others)
    assert ids(gate, GP, "Observation", ("subject", "Patient/pat-1")) == set()  # none written by Riverside
    assert total(gate, GP, "Encounter", ("subject", "Patient/pat-1")) == len(
        ids(gate, GP, "Encounter", ("subject", "Patient/pat-1"))
    )
    history = gate.history(GP, "Observation", None, None, 1000, 0)
    assert not any(v.id.startswith("pat-1-") for v in history.versions)
    with pytest.raises(NotFound):
        gate.read(GP, "Observation", "pat-1-acute-1")
    assert gate.withholds(GP, "pat-1")
    # the acute trust's own staff still see what the trust wrote (with a relationship: a referral to them)
    referral = {
        "resourceType": "ServiceRequest", "id": "acute-ref-1", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/pat-1"}, "performer": [{"reference": f"Organization/{place.ACUTE.id}"}],
        "meta": place.meta(place.PRACTICE),
    }  # fmt: skip
    put(gate, referral)
    assert "Observation/pat-1-acute-1" in ids(gate, HOSPITAL, "Observation", ("subject", "Patient/pat-1"))


def test_sensitive_labels_withheld_outside_the_authoring_team_unless_the_role_grants(gate: AccessGate) -> None:
    assert not ids(gate, GP, "Observation", ("_id", "pat-1-mh-note"))  # restricted: no role outside MH sees it
    assert gate.withholds(GP, "pat-1")
    hiv = {
        "resourceType": "Observation", "id": "pat-2-hiv", "status": "final", "code": {"text": "HIV viral load"},
        "subject": {"reference": "Patient/pat-2"},
        "meta": {**place.meta(place.ACUTE), "security": [label("hiv")]},
    }  # fmt: skip
    put(gate, hiv)
    assert ids(gate, GP, "Observation", ("_id", "pat-2-hiv")) == {"Observation/pat-2-hiv"}  # gp role grants HIV
    assert ids(gate, NURSE, "Observation", ("_id", "pat-2-hiv")) == set()  # nurse role does not
    assert total(gate, NURSE, "Observation", ("_security", "HIV")) == 0  # nor can a search by label count it
    # the team that wrote the mental health note sees it once they have a relationship
    put(gate, {
        "resourceType": "ServiceRequest", "id": "mh-ref-1", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/pat-1"},
        "performer": [{"reference": f"Organization/{place.MENTAL_HEALTH.id}"}], "meta": place.meta(place.PRACTICE),
    })  # fmt: skip
    assert ids(gate, MENTAL_HEALTH, "Observation", ("_id", "pat-1-mh-note")) == {"Observation/pat-1-mh-note"}


def test_break_glass_needs_a_reason_lasts_a_while_and_is_flagged(store: Any) -> None:
    place.load(store, place.place(people=3, entries=2))
    gate = AccessGate(store, break_glass_seconds=3600)
    with pytest.raises(NotFound):
        gate.read(HOSPITAL, "Patient", "pat-1")
    with pytest.raises(Exception, match="reason"):
        gate.break_glass.open(HOSPITAL, "pat-1", "urgent")
    grant = gate.break_glass.open(HOSPITAL, "pat-1", "Unconscious in the emergency department, no history")
    assert gate.read(HOSPITAL, "Patient", "pat-1").id == "pat-1"
    assert "Patient/pat-2" not in ids(gate, HOSPITAL, "Patient")  # only the person it was opened for
    assert [g.grant_id for g in gate.break_glass.awaiting_review()] == [grant.grant_id]
    assert any(e.action == "break-glass" for e in gate.audit.about_patient("pat-1"))
    expired = AccessGate(store, break_glass_seconds=0)
    expired.break_glass.open(
        NURSE.__class__(**{**NURSE.__dict__, "user": "PractitionerRole/x"}),
        "pat-2",
        "Emergency call, carer collapsed at home",
    )
    with pytest.raises(NotFound):
        expired.read(
            NURSE.__class__(**{**NURSE.__dict__, "user": "PractitionerRole/x", "organisation": None}),
            "Patient",
            "pat-2",
        )
    with pytest.raises(Forbidden):
        gate.break_glass.open(staff(place.PLACE, "ig-manager"), "pat-1", "I would like to have a look please")


def test_break_glass_lapses_on_time_for_the_same_user_on_the_same_gate(store: Any) -> None:
    """The visibility conditions are built once per user and reused; the clock must be read at each query."""
    place.load(store, place.place(people=3, entries=2))
    gate = AccessGate(store, break_glass_seconds=1)
    gate.break_glass.open(HOSPITAL, "pat-2", "Found collapsed at the bus station, no history available")
    assert gate.read(HOSPITAL, "Patient", "pat-2").id == "pat-2"
    time.sleep(1.2)
    with pytest.raises(NotFound):
        gate.read(HOSPITAL, "Patient", "pat-2")


def test_resident_sees_own_record_and_analyst_honours_opt_outs(gate: AccessGate) -> None:
    resident = AccessContext(user="Patient/pat-3", role="resident")
    assert ids(gate, resident, "Patient") == {"Patient/pat-3"}
    assert all("pat-3" in r for r in ids(gate, resident, "Observation"))
    analyst = AccessContext(user="PractitionerRole/analyst", role="analyst", purpose="analytics")
    pseudonym = gate.pseudonymiser.resource_id  # secondary use sees pseudonymised ids (test_secondary_use.py)
    assert len(ids(gate, analyst, "Patient")) == 8
    put(gate, objection("pat-3", OPTS_OUT_OF_SECONDARY_USE, "optout-pat-3"))
    assert f"Patient/{pseudonym('Patient', 'pat-3')}" not in ids(gate, analyst, "Patient")
    observations = gate.search(analyst, parse_search("Observation", [("_count", "1000")])).matches
    subjects = {o["subject"]["reference"] for o in observations}
    assert subjects and f"Patient/{pseudonym('Patient', 'pat-3')}" not in subjects
    assert f"Observation/{pseudonym('Observation', 'pat-1-mh-note')}" not in ids(gate, analyst, "Observation")
    direct_care_by_analyst = AccessContext(user="PractitionerRole/analyst", role="analyst")
    assert ids(gate, direct_care_by_analyst, "Patient") == set()


def test_writes_need_the_role_and_a_relationship(gate: AccessGate) -> None:
    note = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Note"},
        "subject": {"reference": "Patient/pat-0"},
    }
    with pytest.raises(Forbidden):
        gate.create(GP, dict(note), None)  # pat-0 is another practice's
    assert gate.create(OTHER_GP, dict(note), None).written.created
    with pytest.raises(Forbidden):
        gate.create(AccessContext(user="Patient/pat-0", role="resident"), dict(note), None)
    with pytest.raises(NotFound):
        gate.delete(GP, "Observation", "pat-0-acute-1")


def test_scopes_limit_types_even_through_includes(gate: AccessGate) -> None:
    scoped = replace(GP, scopes=("user/Observation.rs",), via="api")
    found = ids(gate, scoped, "Observation", ("subject", "Patient/pat-1"), ("_include", "Observation:subject"))
    assert found and all(r.startswith("Observation/") for r in found)
    with pytest.raises(Forbidden):
        gate.search(scoped, parse_search("Patient", []))


def test_care_home_staff_see_residents_while_they_live_there(gate: AccessGate) -> None:
    """Residence is a placement episode managed by the home: its staff see the resident while it is open, and no
    longer once it ends (the resident moved out), with no other change."""
    home_staff = staff(place.CARE_HOME, "care-home-staff")
    placement = {
        "resourceType": "EpisodeOfCare", "id": "pat-3-placement", "status": "active",
        "type": [{"text": "Residential care home placement"}], "patient": {"reference": "Patient/pat-3"},
        "managingOrganization": {"reference": f"Organization/{place.CARE_HOME.id}"}, "period": {"start": "2025-06-01"},
    }  # fmt: skip
    assert ids(gate, home_staff, "Patient") == set()
    put(gate, placement)
    assert ids(gate, home_staff, "Patient") == {"Patient/pat-3"}
    assert gate.read(home_staff, "Observation", "pat-3-acute-1").id == "pat-3-acute-1"
    put(gate, {**placement, "status": "finished", "period": {"start": "2025-06-01", "end": "2025-11-01"}})
    assert ids(gate, home_staff, "Patient") == set()
    with pytest.raises(NotFound):
        gate.read(home_staff, "Patient", "pat-3")
