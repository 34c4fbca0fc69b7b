"""One person's contacts with community health, mental health, adult social care and the voluntary sector,
drawn after their hospital stays (reablement follows a discharge; a falls referral follows a fall)."""

from __future__ import annotations

import random

from .care_selection import CareStatus
from .chance import poisson
from .config import SynthConfig
from .life import Episode, Life, frailty_of
from .population import Population
from .tables import table

DISTRICT_NURSING_BY_FRAILTY = (0.01, 0.05, 0.15, 0.3)


def _weekly(rng: random.Random, start: int, end: int, most: int) -> list[int]:
    days: list[int] = []
    day = start
    while day <= end and len(days) < most:
        days.append(day)
        day += rng.randint(4, 10)
    return days


def _community(rng: random.Random, life: Life, frailty: int, lo: int, hi: int) -> None:
    if life.age >= 65:
        for year_end in range(hi, lo, -365):
            chance = DISTRICT_NURSING_BY_FRAILTY[frailty] + (0.3 if "skin_ulcer" in life.deficits else 0.0)
            if rng.random() < chance:
                start = rng.randint(max(lo, year_end - 364), year_end)
                end = min(hi, start + rng.randint(14, 84))
                life.community.append(Episode("district_nursing", start, end, _weekly(rng, start, end, 12)))
    for stay in life.stays:
        if stay.fall and stay.destination != "died" and rng.random() < 0.5 and stay.end + 7 <= hi:
            start = stay.end + rng.randint(3, 21)
            end = min(hi, start + 42)
            life.community.append(Episode("falls_service", start, end, _weekly(rng, start, end, 3)))


def _mental_health(rng: random.Random, life: Life, onset: dict[str, int], lo: int, hi: int) -> None:
    if "smi" in life.conditions:
        start = max(lo, onset["smi"])
        contacts = sorted(rng.randint(start, hi) for _ in range(poisson(rng, 6 * (hi - start + 1) / 365)))
        life.mental_health.append(Episode("community_mental_health", start, 0 if not life.death else hi, contacts))
    if "depression" in life.conditions and life.age >= 16:
        for year_end in range(hi, lo, -365):
            if rng.random() < 0.06:
                start = rng.randint(max(lo, year_end - 364), year_end)
                end = min(hi, start + rng.randint(56, 112))
                life.mental_health.append(Episode("talking_therapies", start, end, _weekly(rng, start, end, 8)))
    if "dementia" in life.conditions and lo <= onset["dementia"] <= hi:
        start = onset["dementia"]
        end = min(hi, start + 120)
        life.mental_health.append(Episode("memory_assessment", start, end, _weekly(rng, start, end, 3)))


def _social_care(
    rng: random.Random, life: Life, care: CareStatus, frailty: int, lo: int, hi: int, index_day: int
) -> None:
    person, ongoing_end = life.person, (hi if life.death else 0)
    rates = table("rates")
    if care.council_funded[person] and care.care_home[person] >= 0:
        since = int(care.care_home_since[person])
        kind = "care_home_placement"
        life.social_care.append(Episode(kind, since, ongoing_end, [d for d in (since - 21,) if d >= lo]))
    if care.home_care_since[person]:
        since = int(care.home_care_since[person])
        reviews = [d for d in range(since - 14, hi, 365) if d >= lo]
        hours = int(care.home_care_hours[person])
        life.social_care.append(Episode("home_care", since, ongoing_end, reviews, hours=hours))
    for stay in life.stays:
        if stay.reablement and stay.end < hi:
            start = stay.end + 1
            end = min(hi, start + rng.randint(10, 42))
            outcome = _reablement_outcome(rng, life, stay.end, rates["reablement_at_home_if_alive"])
            life.social_care.append(Episode("reablement", start, end, _weekly(rng, start, end, 6), outcome))
    if frailty >= 1 and not care.home_care_since[person] and care.care_home[person] < 0:
        for year_end in range(hi, lo, -365):
            if rng.random() < rates["social_care_contacts_frail"] * frailty:
                day = rng.randint(max(lo, year_end - 364), year_end)
                life.social_care.append(Episode("contact", day, day, [day]))
    if care.carer[person]:
        day = rng.randint(max(lo, index_day - 3 * 365), index_day)
        life.social_care.append(Episode("carers_assessment", day, day, [day]))
    if care.telecare_since[person]:
        since = int(care.telecare_since[person])
        first = max(lo, since)
        expected = rates["telecare_alarm_calls"] * (hi - first) / 365
        calls = sorted(rng.randint(first, hi) for _ in range(poisson(rng, expected)))
        life.social_care.append(Episode("telecare", since, ongoing_end, calls))


def _reablement_outcome(rng: random.Random, life: Life, discharged: int, at_home: float) -> str:
    if life.death and life.death <= discharged + 91:
        return "died"
    if rng.random() < at_home:
        return "at_home"
    return "in_hospital" if rng.random() < 0.5 else "in_care_home"


def _voluntary(rng: random.Random, life: Life, lo: int, hi: int) -> None:
    if life.age < 18:
        return
    need = 1.0 + 1.5 * ("depression" in life.conditions) + 1.5 * ("social_vulnerability" in life.deficits)
    for year_end in range(hi, lo, -365):
        if rng.random() < table("rates")["social_prescribing"] * need / 2:
            start = rng.randint(max(lo, year_end - 364), year_end)
            end = min(hi, start + rng.randint(14, 90))
            activity = rng.choice(table("services")["voluntary_activities"])
            episode = Episode("social_prescribing", start, end, _weekly(rng, start, end, rng.randint(1, 6)), activity)
            life.voluntary.append(episode)


def add_services(rng: random.Random, life: Life, config: SynthConfig, pop: Population, care: CareStatus) -> None:
    """Fill in the person's community, mental health, social care and voluntary sector episodes."""
    person = life.person
    lo = max(config.start.toordinal(), int(pop.birth[person]))
    hi = life.death if life.death else config.end.toordinal()
    if hi < lo:
        return
    keys = [c["key"] for c in table("conditions")["conditions"]]
    onset = {key: int(pop.onset[person, i]) for i, key in enumerate(keys)}
    frailty = frailty_of(pop, person)
    _community(rng, life, frailty, lo, hi)
    _mental_health(rng, life, onset, lo, hi)
    _social_care(rng, life, care, frailty, lo, hi, config.index_date.toordinal())
    _voluntary(rng, life, lo, hi)
