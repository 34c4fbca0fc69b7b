"""FHIR records held by the council's adult social care and the voluntary sector.

Mapping (docs/decisions/0100-synthetic-place.md): each service a person receives is an EpisodeOfCare typed by
the service (reablement, home care, care home placement, telecare); home care hours are a ServiceRequest's
quantity (hours a week, UCUM h/wk); assessments, contacts, reablement visits and telecare alarm calls are
Encounters; the 91-day reablement outcome and "is a carer" are Observations; the telecare alarm is a Device.
"""

from __future__ import annotations

from .fhir_build import Resource, coding, day, encounter, org_ref, ref, service_code
from .life import Episode, Life
from .place_feed import practitioner_id, service_id
from .records import SourcePerson, Write, resource, service_request
from .records_health import episode_resources
from .tables import table

SOCIAL_KIND = {
    "care_home_placement": "residential_placement",
    "home_care": "home_care",
    "reablement": "reablement",
    "contact": "social_contact",
    "carers_assessment": "carers_assessment",
    "telecare": "telecare",
}


def _outcome(owner: SourcePerson, episode: Episode, episode_id: str, end_day: int, write: Write) -> None:
    services = table("services")
    when = episode.start - 1 + 91
    if when > end_day:
        return
    value = services["reablement_outcome_values"][episode.outcome]
    write(
        "socialcare",
        resource(
            "Observation",
            owner.new_id("obs"),
            owner,
            status="final",
            code=service_code(services["reablement_outcome"]),
            subject=owner.subject(),
            effectiveDateTime=day(when),
            focus=[ref("EpisodeOfCare", episode_id)],
            valueCodeableConcept=coding(services["local_system"], episode.outcome.replace("_", "-"), value),
        ),
    )


def _single(owner: SourcePerson, episode: Episode, kind: Resource, write: Write) -> str:
    visit = encounter(
        owner.new_id("enc"),
        owner.meta,
        owner.subject(),
        "AMB",
        kind,
        episode.start,
        episode.start,
        org_ref(owner.org_code),
    )
    worker = practitioner_id(owner.org_code, 1 + episode.start % 12)
    visit["participant"] = [{"individual": ref("Practitioner", worker)}]
    write("socialcare", visit)
    return str(visit["id"])


def telecare_device_resource(owner: SourcePerson) -> Resource:
    """The telecare alarm in the person's home."""
    return resource(
        "Device",
        owner.new_id("dev"),
        owner,
        status="active",
        type=service_code(table("services")["telecare"]),
        patient=owner.subject(),
        owner=org_ref(owner.org_code),
    )


def social_care_record(
    owner: SourcePerson, life: Life, nursing_home: bool, end_day: int, write: Write, home_code: str | None = None
) -> None:
    """`home_code`: the care home the person lives in now, if any (the performer of an open placement)."""
    services = table("services")
    for episode in life.social_care:
        key = SOCIAL_KIND[episode.kind]
        if episode.kind == "care_home_placement" and nursing_home:
            key = "nursing_placement"
        kind = service_code(services[key])
        if episode.kind == "contact":
            _single(owner, episode, kind, write)
            continue
        if episode.kind == "carers_assessment":
            _single(owner, episode, kind, write)
            write(
                "socialcare",
                resource(
                    "Observation",
                    owner.new_id("obs"),
                    owner,
                    status="final",
                    code=service_code(services["carer_finding"]),
                    subject=owner.subject(),
                    effectiveDateTime=day(episode.start),
                    valueBoolean=True,
                ),
            )
            continue
        klass = "VR" if episode.kind == "telecare" else "HH"
        if episode.kind == "telecare":
            contact_kind = service_code(services["telecare_alarm_call"])
            episode_id = episode_resources(
                owner, Episode(episode.kind, episode.start, episode.end), kind, klass, write, end_day
            )
            for when in episode.contacts:
                call = encounter(
                    owner.new_id("enc"),
                    owner.meta,
                    owner.subject(),
                    klass,
                    contact_kind,
                    when,
                    when,
                    org_ref(owner.org_code),
                )
                call["episodeOfCare"] = [ref("EpisodeOfCare", episode_id)]
                write("socialcare", call)
            write("socialcare", telecare_device_resource(owner))
            continue
        episode_id = episode_resources(owner, episode, kind, klass, write, end_day)
        if episode.kind == "home_care":
            write(
                "socialcare",
                service_request(
                    owner,
                    kind,
                    episode.start,
                    "active" if not episode.end else "completed",
                    quantityQuantity={
                        "value": episode.hours,
                        "unit": "hours per week",
                        "system": "http://unitsofmeasure.org",
                        "code": "h/wk",
                    },
                    performer=[ref("HealthcareService", service_id("socialcare", "home-care"))],
                    supportingInfo=[ref("EpisodeOfCare", episode_id)],
                ),
            )
        if episode.kind == "care_home_placement" and home_code is not None and not episode.end:
            # The council commissions the placement; the home is its performer. An open placement is how the home's
            # staff come to have a legitimate relationship with their residents (access/relationships.py), and it
            # ends with the placement.
            write(
                "socialcare",
                service_request(
                    owner,
                    kind,
                    episode.start,
                    "active",
                    performer=[org_ref(home_code)],
                    supportingInfo=[ref("EpisodeOfCare", episode_id)],
                ),
            )
        if episode.kind == "reablement":
            _outcome(owner, episode, episode_id, end_day, write)


def voluntary_record(owner: SourcePerson, life: Life, practice_code: str, end_day: int, write: Write) -> None:
    services = table("services")
    kind = service_code(services["voluntary_session"])
    referral_kind = service_code(services["social_prescribing"])
    for episode in life.voluntary:
        request = service_request(
            owner,
            referral_kind,
            episode.start,
            "completed",
            requester=org_ref(practice_code),
            performer=[ref("HealthcareService", service_id("voluntary", "social-prescribing"))],
            note=[{"text": episode.outcome}],
        )
        write("voluntary", request)
        for when in episode.contacts:
            if when > end_day:
                continue
            session = encounter(
                owner.new_id("enc"), owner.meta, owner.subject(), "AMB", kind, when, when, org_ref(owner.org_code)
            )
            session["basedOn"] = [ref("ServiceRequest", request["id"])]
            write("voluntary", session)
