"""Legitimate relationships: which people a professional may see, decided in SQL from the record itself.

A professional has a relationship with a person while any of these holds (each read from the index tables, so it
ends the moment the record says it ends — a closed episode, a completed task, a registration moved elsewhere):

- GP registration: the Patient's generalPractitioner or managingOrganization is the user's organisation;
- care team: an active CareTeam about the person has the user, their practitioner or their organisation as a
  participant (MDG caseloads are care teams too);
- an open EpisodeOfCare managed by the user's organisation (or with the user as care manager) — this is also how
  a care home resident is recorded: a placement episode managed by the home;
- an open ServiceRequest (referral) with the user or their organisation as performer;
- an open Task owned by the user or their organisation;
- (care coordination, decision 0500) a team of the user's organisation stands for the organisation: a
  HealthcareService it provides that is a referral's performer or a Task's owner;
- a multidisciplinary group: the people on a current List (an MDG's case-finding list or a huddle's agenda) whose
  subject is a Group (of staff) the user is a member of;
- residence: an in-progress Encounter at a Location the user's organisation manages (a care home's residents).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select

from joinedup.store.visibility_sql import (
    any_of,
    ids_of,
    patients_of,
    referenced_ids,
    referring,
    referring_any,
    with_token,
)

OPEN_EPISODE = ("planned", "waitlist", "active", "onhold")
OPEN_REFERRAL = ("draft", "active", "on-hold")
OPEN_TASK = ("draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold")
ACTIVE_TEAM = ("active",)
CURRENT_LIST = ("current",)
RESIDING = ("in-progress",)  # a stay at a care home is an Encounter in progress at the home's Location


@dataclass(frozen=True)
class Principal:
    """Who a user is in the record: their own reference and their organisation's id (either may be missing)."""

    user_type: str | None
    user_id: str | None
    organisation_id: str | None

    @classmethod
    def of(cls, user: str, organisation: str | None) -> Principal:
        user_type, _, user_id = user.partition("/")
        org_type, _, org_id = (organisation or "").partition("/")
        return cls(
            user_type if user_id else None,
            user_id or None,
            org_id if org_type == "Organization" and org_id else None,
        )

    def people(self) -> list[tuple[str, Select[tuple[str]] | list[str]]]:
        """(type, ids) pairs that stand for the user as a participant, performer or owner."""
        found: list[tuple[str, Select[tuple[str]] | list[str]]] = []
        if self.user_type and self.user_id:
            found.append((self.user_type, [self.user_id]))
            if self.user_type == "PractitionerRole":
                found.append(
                    ("Practitioner", referenced_ids("PractitionerRole", self.user_id, "practitioner", "Practitioner"))
                )
        if self.organisation_id:
            found.append(("Organization", [self.organisation_id]))
            teams = referring("HealthcareService", ("organization",), "Organization", [self.organisation_id])
            found.append(("HealthcareService", ids_of("HealthcareService", teams)))
        return found


def related_patients(who: Principal) -> Select[tuple[str]] | None:
    """Ids of the Patients the user has a relationship with now, as one sub-query (None: nobody)."""
    people = who.people()
    if not people:
        return None
    sources: list[Select[tuple[str]]] = []
    if who.organisation_id:
        registered = referring(
            "Patient", ("general-practitioner", "organization"), "Organization", [who.organisation_id]
        )
        sources.append(ids_of("Patient", registered))
    sources.append(
        patients_of(
            "CareTeam",
            with_token("CareTeam", "status", ACTIVE_TEAM),
            referring_any("CareTeam", ("participant",), people),
        )
    )
    sources.append(
        patients_of(
            "EpisodeOfCare",
            with_token("EpisodeOfCare", "status", OPEN_EPISODE),
            referring_any("EpisodeOfCare", ("organization", "care-manager"), people),
        )
    )
    sources.append(
        patients_of(
            "ServiceRequest",
            with_token("ServiceRequest", "status", OPEN_REFERRAL),
            referring_any("ServiceRequest", ("performer",), people),
        )
    )
    sources.append(
        patients_of("Task", with_token("Task", "status", OPEN_TASK), referring_any("Task", ("owner",), people))
    )
    groups = ids_of("Group", referring_any("Group", ("member",), people))
    sources.append(
        patients_of(
            "List", with_token("List", "status", CURRENT_LIST), referring("List", ("subject",), "Group", groups)
        )
    )
    if who.organisation_id:
        homes = ids_of("Location", referring("Location", ("organization",), "Organization", [who.organisation_id]))
        sources.append(
            patients_of(
                "Encounter",
                with_token("Encounter", "status", RESIDING),
                referring("Encounter", ("location",), "Location", homes),
            )
        )
    return any_of(*sources)
