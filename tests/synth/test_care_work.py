"""The work of integrated care in a 2,000-person place (issue 26, decision 0506): the floors the issue states, the
contract's shapes (/work/care-contract.md), references that resolve, and the benchmark's work-only place."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.references import parse_reference, reference_holders
from joinedup.fhir.validation import validate_resource
from joinedup.synth.generate import PlaceSummary

from .conftest import by_type, resources

Resource = dict[str, Any]
CLOSED_TASK = {"completed", "cancelled", "rejected", "failed", "entered-in-error"}
SPA = "place-svc-community-spa"


@pytest.fixture(scope="module")
def place(demo_sized_place: PlaceSummary) -> dict[str, list[tuple[str, Resource]]]:
    return by_type(demo_sized_place.out_dir)


def _all(place: dict[str, list[tuple[str, Resource]]], resource_type: str) -> list[Resource]:
    return [r for _, r in place.get(resource_type, [])]


def _code(concept: Resource | None, system: str) -> str | None:
    return next((c["code"] for c in (concept or {}).get("coding", []) if c.get("system") == system), None)


def _kind(task: Resource) -> str | None:
    words = vocabulary()
    return _code(task.get("code"), words.system("work_kind")) or _code(task.get("code"), words.system("task_code"))


def test_the_floors_for_a_two_thousand_person_place(place: dict[str, list[tuple[str, Resource]]]) -> None:
    tasks = _all(place, "Task")
    assert sum(t["status"] not in CLOSED_TASK for t in tasks) >= 100
    managed = [e for e in _all(place, "EpisodeOfCare") if e["status"] == "active" and "careManager" in e]
    assert len(managed) >= 50
    referral_requests = {t["focus"]["reference"] for t in tasks if _kind(t) == "fulfill"}
    active_referrals = [
        s
        for s in _all(place, "ServiceRequest")
        if s["status"] == "active" and f"ServiceRequest/{s['id']}" in referral_requests
    ]
    assert len(active_referrals) >= 50
    kinds = vocabulary().system("list_kind")
    agendas = [x for x in _all(place, "List") if x["status"] == "current" and _code(x["code"], kinds) == "mdg-agenda"]
    assert agendas and all(x["mode"] == "working" and x["entry"] for x in agendas)
    assert any(f["status"] == "active" for f in _all(place, "Flag"))


def test_every_new_resource_is_valid_and_every_reference_resolves(
    demo_sized_place: PlaceSummary, place: dict[str, list[tuple[str, Resource]]]
) -> None:
    known = {(t, r["id"]) for t, rows in place.items() for _, r in rows}
    for resource_type in ("Task", "Communication", "Flag", "List", "Group", "HealthcareService", "EpisodeOfCare"):
        for _, resource in place[resource_type]:
            validate_resource(resource)
    for _, resource in resources(demo_sized_place.out_dir):
        for _, holder in reference_holders(resource, resource["resourceType"]):
            parsed = parse_reference(str(holder["reference"]))
            assert parsed is not None and (parsed.resource_type, parsed.resource_id) in known, holder["reference"]


def test_teams_their_members_managers_and_the_single_point_of_access(
    place: dict[str, list[tuple[str, Resource]]],
) -> None:
    services = {s["id"]: s for s in _all(place, "HealthcareService")}
    roles = _all(place, "PractitionerRole")
    members: Counter[str] = Counter()
    for role in roles:
        teams = [h["reference"].removeprefix("HealthcareService/") for h in role.get("healthcareService", [])]
        assert len(teams) == 1 and teams[0] in services
        team = services[teams[0]]
        assert team["providedBy"] == role["organization"], "a member of staff belongs to their own organisation's team"
        members[teams[0]] += 1
    assert set(members) == set(services), "every team has members"
    spa = services[SPA]
    assert spa["name"] == "Single point of access (Centre of Contact)" and members[SPA] >= 2
    spa_teams = [s for s in services.values() if {"text": "spa-team"} in s.get("characteristic", [])]
    assert spa_teams and all(s["providedBy"] == spa["providedBy"] for s in spa_teams)
    dos = {s["providedBy"]["reference"] for s in services.values() for i in s.get("identifier", [])
           if i["system"] == "https://fhir.nhs.uk/Id/dos-service-id" and len(i["value"]) == 9}  # fmt: skip
    assert {"Organization/place-org-zrn", "Organization/place-org-z510"} <= dos
    managers = [r for r in roles if any(c.get("code") == "team-manager" for cc in r["code"] for c in cc["coding"])]
    assert managers and all(members[r["healthcareService"][0]["reference"].split("/")[1]] >= 3 for r in managers)


def test_referrals_run_between_every_pair_of_partners_and_most_are_accepted(
    place: dict[str, list[tuple[str, Resource]]],
) -> None:
    services = {s["id"]: s["providedBy"]["reference"] for s in _all(place, "HealthcareService")}
    requests = {r["id"]: (feed, r) for feed, r in place["ServiceRequest"]}
    steps = vocabulary().system("referral_step")
    pairs: set[tuple[str, str]] = set()
    decided: Counter[str] = Counter()
    open_states: Counter[str] = Counter()
    for _, task in place["Task"]:
        if _kind(task) != "fulfill":
            continue
        feed, request = requests[task["focus"]["reference"].removeprefix("ServiceRequest/")]
        receiver = services[request["performer"][0]["reference"].removeprefix("HealthcareService/")]
        pairs.add((feed, "gp" if receiver.startswith("Organization/place-org-z8") else receiver))
        step = _code(task["businessStatus"], steps)
        assert task["for"] == request["subject"] and task["requester"] == request["requester"]
        assert task["restriction"]["period"]["end"] > task["authoredOn"] and task["note"]
        if step == "declined":
            assert task["statusReason"] and request["status"] == "revoked"
        if step == "completed":
            assert task["output"][0]["type"]["text"] == "outcome" and request["status"] == "completed"
        if step in {"accepted", "allocated", "first-contact", "completed", "declined"}:
            decided["declined" if step == "declined" else "accepted"] += 1
        if task["status"] not in CLOSED_TASK:
            open_states[task["owner"]["reference"].split("/")[0]] += 1
            open_states[task["status"]] += 1
    assert len({p for p in pairs if p[0] != "gp"}) >= 25 and len(pairs) >= 28
    share = decided["accepted"] / (decided["accepted"] + decided["declined"])
    assert 0.7 <= share <= 0.9, share
    assert open_states["PractitionerRole"] and open_states["HealthcareService"], "some allocated, some with the team"
    assert open_states["requested"] and open_states["accepted"] and open_states["in-progress"]


def test_contacts_triage_telecare_and_flags(place: dict[str, list[tuple[str, Resource]]]) -> None:
    words = vocabulary()
    contacts = {c["id"]: c for c in _all(place, "Communication")}
    routes = Counter(_code(c["category"][0], words.system("contact_route")) for c in contacts.values())
    assert set(routes) == {"phone", "web-form", "message", "telecare"}
    triage = [t for t in _all(place, "Task") if _kind(t) == "triage"]
    assert len(triage) == len(contacts)
    now = max(t["lastModified"] for t in triage)
    waiting = [t for t in triage if t["status"] == "requested"]
    assert waiting and any(t["restriction"]["period"]["end"] < now for t in waiting), "an open queue, some overdue"
    assert any("for" not in t for t in waiting), "someone not yet identified"
    for task in triage:
        assert task["owner"] == {"reference": f"HealthcareService/{SPA}"}
        contact = contacts[task["focus"]["reference"].removeprefix("Communication/")]
        if contact["category"][0]["coding"][0]["code"] == "telecare":
            assert contact["sender"]["reference"].startswith("Device/") and task["priority"] == "asap"
        if task["status"] == "completed":
            outcome = _code(task["businessStatus"], words.system("triage_outcome"))
            assert outcome and task["executionPeriod"]["end"] >= task["authoredOn"]
            if outcome == "referred-on":
                assert task["output"][0]["valueReference"]["reference"].startswith("ServiceRequest/")
    flags = _all(place, "Flag")
    assert flags and all(f["period"]["end"] > f["period"]["start"] for f in flags)


def test_caseloads_residence_and_the_multidisciplinary_groups(place: dict[str, list[tuple[str, Resource]]]) -> None:
    words = vocabulary()
    roles = {r["id"]: r for r in _all(place, "PractitionerRole")}
    open_episodes = [e for e in _all(place, "EpisodeOfCare") if e["status"] in {"active", "waitlist"}]
    unallocated = [e for e in open_episodes if "careManager" not in e]
    assert unallocated and len(unallocated) < len(open_episodes) / 3
    for episode in open_episodes:
        if "careManager" in episode:
            role = roles[episode["careManager"]["reference"].removeprefix("PractitionerRole/")]
            assert role["organization"] == episode["managingOrganization"]
    homes = {f"Location/{x['id']}" for x in _all(place, "Location") if x.get("type")}
    placed = {(r["subject"]["reference"]) for r in _all(place, "ServiceRequest")
              if r["status"] == "active" and r["performer"][0]["reference"].startswith("Organization/")}  # fmt: skip
    residences = [e for e in _all(place, "Encounter") if e["status"] == "in-progress"]
    assert len(residences) >= len(placed) > 0
    assert all(e["location"][0]["location"]["reference"] in homes for e in residences)
    groups = _all(place, "Group")
    assert len(groups) == 8
    lists = _all(place, "List")
    for group in groups:
        orgs = {roles[m["entity"]["reference"].split("/")[1]]["organization"]["reference"] for m in group["member"]}
        assert len(orgs) >= 6 and group["managingEntity"]["reference"] in orgs
        mine = [x for x in lists if x["subject"] == {"reference": f"Group/{group['id']}"}]
        kinds = Counter((_code(x["code"], words.system("list_kind")), x["status"]) for x in mine)
        assert kinds[("case-finding", "current")] == 1 and kinds[("mdg-agenda", "current")] == 1
        assert kinds[("mdg-agenda", "retired")] >= 1
    actions = [t for t in _all(place, "Task") if _kind(t) == "huddle-action"]
    statuses = Counter("open" if t["status"] not in CLOSED_TASK else "closed" for t in actions)
    assert statuses["open"] and statuses["closed"]
    assert all(t["groupIdentifier"]["value"].startswith("place-group-mdg-") for t in actions)


def test_the_work_only_place_holds_people_and_their_work_and_no_clinical_history(
    work_only_place: PlaceSummary, demo_sized_place: PlaceSummary
) -> None:
    types = {t for counts in work_only_place.counts.values() for t in counts}
    assert not types & {"Condition", "Observation", "MedicationRequest", "Procedure"}
    assert {"Patient", "Task", "EpisodeOfCare", "ServiceRequest", "Communication", "List", "Group"} <= types
    assert work_only_place.counts["gp"]["Patient"] == demo_sized_place.people
    assert work_only_place.resources < demo_sized_place.resources / 5
