"""FHIR records held by the NHS partners: the GP system (SNOMED CT problems and findings, dm+d medicines,
consultations), the acute trust (A&E, admissions with ICD-10 diagnoses and OPCS-4 procedures, outpatients), the
community provider and the mental health trust."""

from __future__ import annotations

from functools import cache
from typing import Any

from .fhir_build import (
    CLINICAL_STATUS,
    CONDITION_CATEGORY,
    DMD,
    SNOMED,
    Resource,
    coding,
    day,
    encounter,
    org_ref,
    ref,
    service_code,
)
from .hospital_stays import Stay
from .life import Episode, Life
from .place_feed import GPS_PER_PRACTICE, STAFF, practitioner_id, service_id
from .records import SourcePerson, Write, resource, service_request
from .tables import table

EXT = "https://joinedup.example/fhir/StructureDefinition/"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
FILLER_MEDICINES = ("paracetamol", "omeprazole", "laxido", "co_codamol", "simvastatin", "aspirin")


@cache
def _conditions() -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = table("conditions")["conditions"]
    return specs


@cache
def _deficits() -> dict[str, dict[str, Any]]:
    return {d["key"]: d for d in table("deficits")["deficits"] if "codes" in d}


def _problem(owner: SourcePerson, code: Resource, onset: int, category: str = "problem-list-item") -> Resource:
    return resource(
        "Condition",
        owner.new_id("cond"),
        owner,
        clinicalStatus=coding(CLINICAL_STATUS, "active", "Active"),
        category=[
            coding(
                CONDITION_CATEGORY,
                category,
                "Problem List Item" if category == "problem-list-item" else "Encounter Diagnosis",
            )
        ],
        code=code,
        subject=owner.subject(),
        onsetDateTime=day(onset),
        recordedDate=day(onset),
    )


def medicines_for(life: Life) -> list[str]:
    """Repeat medicines: those that follow each condition and deficit; five or more only in polypharmacy."""
    chosen: list[str] = []
    for spec in _conditions():
        if spec["key"] in life.conditions:
            for position, key in enumerate(spec["medicines"]):
                if (position == 0 or (life.person + position) % 2 == 0) and key not in chosen:
                    chosen.append(key)
    extras = table("medicines")["extra_for_deficits"]
    for deficit in sorted(life.deficits):
        for key in extras.get(deficit, []):
            if key not in chosen:
                chosen.append(key)
    if "polypharmacy" in life.deficits:
        for key in FILLER_MEDICINES:
            if len(chosen) >= 5 + life.person % 4:
                break
            if key not in chosen:
                chosen.append(key)
    else:
        chosen = chosen[:4]
    return chosen


def gp_record(
    owner: SourcePerson, life: Life, onsets: dict[str, int], practice_code: str, lo: int, write: Write
) -> None:
    rng = owner.rng
    gps = [practitioner_id(practice_code, n) for n in range(1, GPS_PER_PRACTICE + 1)]
    ref_day = life.death if life.death and not life.resident else lo
    for spec in _conditions():
        if spec["key"] in life.conditions:
            codes = spec["codes"][life.person % len(spec["codes"])]
            write("gp", _problem(owner, coding(SNOMED, codes["snomed"], codes["snomed_display"]), onsets[spec["key"]]))
    for key in sorted(life.deficits):
        deficit = _deficits().get(key)
        if deficit is None:
            continue
        code = deficit["codes"][life.person % len(deficit["codes"])]
        onset = ref_day - rng.randint(30, 5 * 365)
        if deficit["kind"] == "condition":
            write("gp", _problem(owner, coding(SNOMED, code[0], code[1]), onset))
        else:
            write(
                "gp",
                resource(
                    "Observation",
                    owner.new_id("obs"),
                    owner,
                    status="final",
                    category=[
                        coding(
                            "http://terminology.hl7.org/CodeSystem/observation-category",
                            "social-history",
                            "Social History",
                        )
                    ],
                    code=coding(SNOMED, code[0], code[1]),
                    subject=owner.subject(),
                    effectiveDateTime=day(onset),
                ),
            )
    medicines = table("medicines")["medicines"]
    for key in medicines_for(life):
        medicine = medicines[key]
        write(
            "gp",
            resource(
                "MedicationRequest",
                owner.new_id("med"),
                owner,
                status="stopped" if life.death else "active",
                intent="order",
                medicationCodeableConcept=coding(DMD, medicine["code"], medicine["display"]),
                subject=owner.subject(),
                authoredOn=day(ref_day - rng.randint(30, 3 * 365)),
                requester=ref("Practitioner", rng.choice(gps)),
                dosageInstruction=[{"text": medicine["dose"]}],
                courseOfTherapyType=coding(
                    "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "continuous",
                    "Continuous long term therapy",
                ),
            ),
        )
    services = table("services")
    kinds = [coding(SNOMED, c[0], c[1]) for c in services["gp_consultation"]]
    home = coding(SNOMED, *services["gp_home_visit"][:2])
    provider = org_ref(practice_code)
    for when, kind in life.gp:
        visit = encounter(
            owner.new_id("enc"),
            owner.meta,
            owner.subject(),
            "HH" if kind == 3 else "AMB",
            home if kind == 3 else kinds[kind],
            when,
            when,
            provider,
        )
        visit["participant"] = [{"individual": ref("Practitioner", gps[(when + kind) % len(gps)])}]
        write("gp", visit)


def _stay(owner: SourcePerson, stay: Stay, write: Write) -> None:
    hospital, services = table("hospital"), table("services")
    icd10, opcs = hospital["icd10_system"], hospital["opcs4_system"]
    encounter_id = owner.new_id("enc")
    diagnoses = [stay.primary, *stay.secondary] + ([stay.external_cause] if stay.external_cause else [])
    condition_ids = []
    for code, display in diagnoses:
        condition = _problem(owner, coding(icd10, code, display), stay.start, "encounter-diagnosis")
        condition["encounter"] = ref("Encounter", encounter_id)
        condition_ids.append(condition["id"])
        write("acute", condition)
    kind = services["emergency_admission" if stay.emergency else "elective_admission"]
    admission = encounter(
        encounter_id,
        owner.meta,
        owner.subject(),
        "IMP",
        coding(SNOMED, kind[0], kind[1]),
        stay.start,
        stay.end,
        org_ref(owner.org_code),
    )
    priority = ("EM", "emergency") if stay.emergency else ("EL", "elective")
    admission["priority"] = coding(PRIORITY, *priority)
    admission["diagnosis"] = [
        {"condition": ref("Condition", cid), "rank": rank} for rank, cid in enumerate(condition_ids, start=1)
    ]
    destination = hospital["discharge_destinations"][stay.destination]
    hospitalization: Resource = {
        "admitSource": coding(ADMIT_SOURCE, "emd", "From accident/emergency department")
        if stay.via_ae
        else coding(ADMIT_SOURCE, "gp", "General Practitioner referral"),
        "dischargeDisposition": coding(hospital["discharge_destination_system"], destination[0], destination[1]),
    }
    if stay.delayed_days:
        hospitalization["extension"] = [{"url": f"{EXT}delayed-discharge-days", "valueInteger": stay.delayed_days}]
    admission["hospitalization"] = hospitalization
    admission["participant"] = [
        {"individual": ref("Practitioner", practitioner_id(owner.org_code, 1 + stay.start % STAFF["acute"]))}
    ]
    write("acute", admission)
    for code, display in stay.procedures:
        write(
            "acute",
            resource(
                "Procedure",
                owner.new_id("proc"),
                owner,
                status="completed",
                code=coding(opcs, code, display),
                subject=owner.subject(),
                encounter=ref("Encounter", encounter_id),
                performedDateTime=day(stay.start),
            ),
        )


def acute_record(owner: SourcePerson, life: Life, write: Write) -> None:
    services = table("services")
    provider = org_ref(owner.org_code)
    ae_kind = coding(SNOMED, *services["ae_attendance"][:2])
    ae_days = sorted([s.start for s in life.stays if s.via_ae] + life.ae_only)
    for when in ae_days:
        write(
            "acute", encounter(owner.new_id("enc"), owner.meta, owner.subject(), "EMER", ae_kind, when, when, provider)
        )
    for stay in life.stays:
        _stay(owner, stay, write)
    outpatient = coding(SNOMED, *services["outpatient"][:2])
    for when in life.outpatients:
        write(
            "acute",
            encounter(owner.new_id("enc"), owner.meta, owner.subject(), "AMB", outpatient, when, when, provider),
        )


def episode_resources(
    owner: SourcePerson, episode: Episode, kind: Resource, klass: str, write: Write, end_day: int
) -> str:
    """An EpisodeOfCare and an Encounter for each of its contacts; returns the episode's id."""
    source = owner.source
    episode_id = owner.new_id("eoc")
    period = {"start": day(episode.start)}
    if episode.end:
        period["end"] = day(episode.end)
    write(
        source,
        resource(
            "EpisodeOfCare",
            episode_id,
            owner,
            status="finished" if episode.end else "active",
            type=[kind],
            patient=owner.subject(),
            managingOrganization=org_ref(owner.org_code),
            period=period,
        ),
    )
    staff = STAFF.get(source, 4)
    for when in episode.contacts:
        if when > end_day:
            continue
        contact = encounter(
            owner.new_id("enc"), owner.meta, owner.subject(), klass, kind, when, when, org_ref(owner.org_code)
        )
        contact["episodeOfCare"] = [ref("EpisodeOfCare", episode_id)]
        contact["participant"] = [
            {"individual": ref("Practitioner", practitioner_id(owner.org_code, 1 + when % staff))}
        ]
        write(source, contact)
    return episode_id


def community_record(owner: SourcePerson, life: Life, end_day: int, write: Write) -> None:
    services = table("services")
    for episode in life.community:
        key = "district_nursing" if episode.kind == "district_nursing" else "falls_service"
        kind = service_code(services[key])
        episode_id = episode_resources(owner, episode, kind, "HH", write, end_day)
        if episode.kind == "falls_service":
            write(
                "community",
                service_request(
                    owner,
                    kind,
                    episode.start,
                    "completed",
                    requester=org_ref("ZRM"),
                    performer=[ref("HealthcareService", service_id("community", "falls"))],
                    supportingInfo=[ref("EpisodeOfCare", episode_id)],
                ),
            )


def mental_health_record(
    owner: SourcePerson, life: Life, onsets: dict[str, int], practice_code: str, end_day: int, write: Write
) -> None:
    for spec in _conditions():
        if spec["key"] in ("smi", "depression", "dementia") and spec["key"] in life.conditions:
            codes = spec["codes"][life.person % len(spec["codes"])]
            code = {
                "coding": [
                    {"system": SNOMED, "code": codes["snomed"], "display": codes["snomed_display"]},
                    {
                        "system": table("hospital")["icd10_system"],
                        "code": codes["icd10"],
                        "display": codes["icd10_display"],
                    },
                ],
                "text": codes["snomed_display"],
            }
            write("mentalhealth", _problem(owner, code, onsets[spec["key"]]))
    services = table("services")
    for episode in life.mental_health:
        kind = service_code(services["mh_referral"])
        kind["text"] = episode.kind.replace("_", " ")
        write(
            "mentalhealth",
            service_request(owner, kind, episode.start, "completed", requester=org_ref(practice_code)),
        )
        episode_resources(owner, episode, kind, "AMB", write, end_day)
