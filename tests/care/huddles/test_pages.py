"""The MDG pages through the real app (both databases): the coordinator's groups, the case-finding list by name,
building an agenda, the huddle page's summaries, recording and closing actions, closing the meeting; and refusals
with a page that says why and nothing changed (another role, a non-member, a stale form, a missing CSRF token)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient

from joinedup.fhir.search_request import parse_search
from joinedup.web.csrf import CSRF_HEADER

from ...web.conftest import csrf_of, sign_in_as
from . import neighbourhood as hood
from .conftest import Huddles

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


def _build_agenda(app: TestClient) -> str:
    page = app.get(f"/mdg/{hood.RIVERSIDE}")
    form = {
        "csrf": csrf_of(page.text),
        "title": "Riverside huddle",
        "meeting": date.today().isoformat(),
        "case_finding": "yes",
    }
    made = app.post(f"/mdg/{hood.RIVERSIDE}/agendas", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert location.startswith("/mdg/agendas/")
    return location.rsplit("/", 1)[1]


def _actions(h: Huddles) -> list[dict[str, object]]:
    system = h.gate.for_system("huddle-tests")
    return system.search(
        parse_search(
            "Task", [("group-identifier", f"https://joinedup.example/fhir/CodeSystem/care-group|{hood.RIVERSIDE}")]
        )
    ).matches


def test_the_coordinator_sees_the_list_by_name_and_runs_a_huddle(app: TestClient, huddles: Huddles) -> None:
    sign_in_as(app, "mdg-coordinator")
    mine = app.get("/mdg")
    assert mine.status_code == 200 and "Riverside neighbourhood MDG" in mine.text
    assert "Hillcrest" not in mine.text
    group = app.get(f"/mdg/{hood.RIVERSIDE}")
    assert group.status_code == 200
    for who in (hood.AGNES, hood.BERNARD, hood.DESMOND):
        assert f"{who.given} {who.family}".upper() in group.text.upper() or who.family in group.text
    assert hood.CORA.family not in group.text and hood.ELSIE.family not in group.text
    agenda_id = _build_agenda(app)
    huddle = app.get(f"/mdg/agendas/{agenda_id}")
    assert huddle.status_code == 200
    assert huddle.text.count('data-testid="agenda-person"') == 3  # Agnes's two records are one person
    assert "Heart failure" in huddle.text and "Emergency admission" in huddle.text
    assert 'data-testid="population-finding"' in huddle.text  # the refresh's level, risk and reasons
    recorded = app.post(
        f"/mdg/agendas/{agenda_id}/actions",
        data={
            "csrf": csrf_of(huddle.text),
            "patient_id": hood.AGNES.patient_id,
            "description": "Falls review at home",
            "owner": "HealthcareService/svc-zrn",
            "due": TOMORROW,
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    huddle = app.get(f"/mdg/agendas/{agenda_id}")
    assert "Falls review at home" in huddle.text
    [task] = _actions(huddles)
    version = re.search(rf'/actions/{task["id"]}/close".*?name="version" value="(\d+)"', huddle.text, re.S)
    assert version is not None
    form = {"csrf": csrf_of(huddle.text), "version": version.group(1), "outcome": "completed", "note": "Done"}
    closed = app.post(f"/mdg/agendas/{agenda_id}/actions/{task['id']}/close", data=form, follow_redirects=False)
    assert closed.status_code == 303
    again = app.post(f"/mdg/agendas/{agenda_id}/actions/{task['id']}/close", data=form, follow_redirects=False)
    assert again.status_code == 409 and "already been closed" in again.text and "Nothing has been changed" in again.text
    version = re.search(
        r'/close" method="post" novalidate>\s*<input type="hidden" name="csrf" value="[^"]+">\s*'
        r'<input type="hidden" name="version" value="(\d+)"',
        huddle.text,
    )
    assert version is not None
    shut = app.post(
        f"/mdg/agendas/{agenda_id}/close",
        data={"csrf": csrf_of(huddle.text), "version": version.group(1)},
        follow_redirects=False,
    )
    assert shut.status_code == 303
    assert "Closed" in app.get(f"/mdg/agendas/{agenda_id}").text


def test_a_stale_agenda_form_changes_nothing(app: TestClient, huddles: Huddles) -> None:
    sign_in_as(app, "mdg-coordinator")
    agenda_id = _build_agenda(app)
    huddle = app.get(f"/mdg/agendas/{agenda_id}").text
    version = re.search(
        r'data-testid="add-person">\s*<input[^>]+>\s*<input type="hidden" name="version" '
        r'value="(\d+)"',
        huddle,
    )
    assert version is not None
    form = {"csrf": csrf_of(huddle), "version": version.group(1), "person": "pat-1"}
    assert app.post(f"/mdg/agendas/{agenda_id}/people", data=form, follow_redirects=False).status_code == 303
    stale = app.post(f"/mdg/agendas/{agenda_id}/people", data={**form, "person": "pat-2"}, follow_redirects=False)
    assert stale.status_code == 409 and "changed since this page was shown" in stale.text
    assert "pat-2" not in str(huddles.gate.for_system("t").read("List", agenda_id).content)


def test_refusals_for_other_roles_non_members_and_forged_forms(app: TestClient, huddles: Huddles) -> None:
    sign_in_as(app, "mdg-coordinator")
    agenda_id = _build_agenda(app)
    sign_in_as(app, "spa-triage")  # a role without huddle.attend
    assert app.get("/mdg").status_code == 403
    assert app.get(f"/mdg/{hood.RIVERSIDE}").status_code == 403
    sign_in_as(app, "hospital-doctor")  # attends huddles, but not a member of this MDG
    refused = app.get(f"/mdg/{hood.RIVERSIDE}")
    assert refused.status_code == 403 and "not a member" in refused.text
    assert hood.AGNES.family not in refused.text
    assert app.get(f"/mdg/agendas/{agenda_id}").status_code in (403, 404)
    sign_in_as(app, "district-nurse")  # a member, but not the coordinator
    page = app.get(f"/mdg/{hood.RIVERSIDE}")
    assert page.status_code == 200 and hood.AGNES.family in page.text and "Build the agenda" not in page.text
    started = app.post(
        f"/mdg/{hood.RIVERSIDE}/agendas",
        data={"csrf": csrf_of(page.text), "title": "Mine", "meeting": TOMORROW},
        follow_redirects=False,
    )
    assert started.status_code == 403
    before = len(huddles.gate.for_system("t").search(parse_search("List", [("_count", "100")])).matches)
    app.headers.pop(CSRF_HEADER, None)  # a forged form: no token
    forged = app.post(f"/mdg/{hood.RIVERSIDE}/case-finding", data={}, follow_redirects=False)
    assert forged.status_code == 403
    after = len(huddles.gate.for_system("t").search(parse_search("List", [("_count", "100")])).matches)
    assert before == after


def test_the_coordinator_publishes_the_list_again(app: TestClient, huddles: Huddles) -> None:
    sign_in_as(app, "mdg-coordinator")
    assert hood.DESMOND.family in app.get(f"/mdg/{hood.RIVERSIDE}").text
    hood.object_to_sharing(huddles.gate, hood.DESMOND.patient_id)  # the gate hides his record at once
    page = app.get(f"/mdg/{hood.RIVERSIDE}")
    assert hood.DESMOND.family not in page.text and "1 listed record(s) cannot be shown to you" in page.text
    done = app.post(f"/mdg/{hood.RIVERSIDE}/case-finding", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    assert "cannot be shown to you" not in app.get(f"/mdg/{hood.RIVERSIDE}").text
    system = huddles.gate.for_system("t")
    current = system.search(parse_search("List", [("subject", f"Group/{hood.RIVERSIDE}"), ("status", "current")]))
    assert f"Patient/{hood.DESMOND.patient_id}" not in str(current.matches)
