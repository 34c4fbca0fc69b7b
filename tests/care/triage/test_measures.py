"""The measures, exact on hand-built contacts (the figures worked out by hand in the comments), and the same through
the store: what the manager's page reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joinedup.access.gate import AccessGate
from joinedup.access.handle import CallerHandle
from joinedup.care.triage import service
from joinedup.care.triage.measures import measures_of, nearest_rank, spa_measures
from joinedup.care.triage.model import Contact, NewContact, communication_of, triage_task_of
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Forbidden

from .conftest import PERSON, SPA

START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


def contact(route: str, urgency: str, received: datetime, hours: float | None, outcome: str | None = None) -> Contact:
    """A contact as read back: decided `hours` after it came in with `outcome` (None: still open)."""
    new = NewContact(SPA, route, "professional", urgency, "x")
    task = triage_task_of(new, received)
    if hours is not None and outcome is not None:
        decided = received + timedelta(hours=hours)
        task = {**task, "status": "completed", "businessStatus": vocabulary().get("triage_outcomes", outcome).concept(),
                "executionPeriod": {"end": decided.strftime("%Y-%m-%dT%H:%M:%SZ")}}  # fmt: skip
    return Contact({**task, "id": "t"}, communication_of(new, received))


def test_measures_per_month_worked_by_hand() -> None:
    october = START
    november = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    contacts = [
        # October: 4 contacts (phone 3, web form 1); 3 decided, 2 of them resolved at first contact (advice,
        # declined) → 2/3 = 67%. Same-day decisions after 2 h and 6 h: median (2+6)/2 = 4.0, 90th centile
        # nearest rank ⌈0.9×2⌉ = 2nd smallest = 6.0. 72-hours: one decision after 30 h → 30.0 and 30.0.
        contact("phone", "same-day", october, 2, "advice"),
        contact("phone", "same-day", october + timedelta(days=1), 6, "referred-on"),
        contact("web-form", "72-hours", october + timedelta(days=2), 30, "declined"),
        contact("phone", "routine", october + timedelta(days=3), None),
        # November: 5 routine contacts by message, all referred on (0 of 5 resolved → 0%), decided after 10, 20,
        # 30, 40 and 100 h: median the 3rd = 30.0; 90th centile ⌈0.9×5⌉ = 5th smallest = 100.0.
        *(contact("message", "routine", november, h, "referred-on") for h in (40, 10, 100, 30, 20)),
        # and a telecare alert decided with advice after 1 h (same-day): 1 of 6 decided resolved → 17%
        contact("telecare", "same-day", november, 1, "advice"),
    ]
    months = measures_of(contacts)
    assert [m.month for m in months] == ["2026-10", "2026-11"]
    october_figures, november_figures = months
    assert october_figures.by_route == {"phone": 3, "web-form": 1}
    assert october_figures.contacts == 4
    assert (october_figures.decided, october_figures.resolved_at_first_contact) == (3, 2)
    assert october_figures.resolved_share == pytest.approx(2 / 3)
    same_day = october_figures.times["same-day"]
    assert (same_day.decided, same_day.median_hours, same_day.centile_90_hours) == (2, 4.0, 6.0)
    seventy_two = october_figures.times["72-hours"]
    assert (seventy_two.decided, seventy_two.median_hours, seventy_two.centile_90_hours) == (1, 30.0, 30.0)
    routine = october_figures.times["routine"]
    assert (routine.decided, routine.median_hours, routine.centile_90_hours) == (0, None, None)  # open only
    assert november_figures.by_route == {"message": 5, "telecare": 1}
    assert (november_figures.decided, november_figures.resolved_at_first_contact) == (6, 1)
    routine = november_figures.times["routine"]
    assert (routine.decided, routine.median_hours, routine.centile_90_hours) == (5, 30.0, 100.0)
    assert november_figures.times["same-day"].median_hours == 1.0


def test_nearest_rank() -> None:
    # ten values 1..10: the 90th centile is the 9th smallest, the 50th the 5th
    values = [float(v) for v in range(10, 0, -1)]
    assert nearest_rank(values, 0.9) == 9.0
    assert nearest_rank(values, 0.5) == 5.0
    assert nearest_rank([], 0.9) is None


def test_measures_through_the_store(spa: CallerHandle, gate: AccessGate, gp: CallerHandle) -> None:
    patient = f"Patient/{PERSON.patient_id}"
    # 3 contacts in November: two by phone (one decided with advice after 3 h, one referred on after 5 h; both
    # 72-hours), one unidentified web form still open → phone 2, web form 1; 1 of 2 decided resolved (50%);
    # 72-hours median (3+5)/2 = 4.0, 90th centile the 2nd smallest = 5.0.
    when = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    first = service.take_contact(spa, NewContact(SPA, "phone", "resident", "72-hours", "a", patient), when)
    second = service.take_contact(spa, NewContact(SPA, "phone", "carer", "72-hours", "b", patient), when)
    service.take_contact(spa, NewContact(SPA, "web-form", "carer", "routine", "c"), when)
    service.decide(spa, first.task_id, first.version, service.Decision("advice"), when + timedelta(hours=3))
    decision = service.Decision("referred-on", service="HealthcareService/svc-zrn")
    service.decide(spa, second.task_id, second.version, decision, when + timedelta(hours=5))
    months = spa_measures(spa, gate.for_system("test-measures"), [SPA])
    assert len(months) == 1
    figures = months[0]
    assert figures.by_route == {"phone": 2, "web-form": 1}
    assert (figures.decided, figures.resolved_at_first_contact) == (2, 1)
    times = figures.times["72-hours"]
    assert (times.decided, times.median_hours, times.centile_90_hours) == (2, 4.0, 5.0)
    with pytest.raises(Forbidden):
        spa_measures(gp, gate.for_system("test-measures"), [SPA])
