"""One person's years in the window: every contact with every partner, as plain events (no FHIR yet).

Time is cut into years ending on the index date (and the year after it). In each year the person's event rates
are the age-band base rates times their own relative risks; counts are Poisson. The year after the index date
uses the rate fixed at the index date, so the truth file's probability, 1 - exp(-rate), is exactly the chance
of the outcome the records show.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .care_selection import CareStatus
from .chance import person_rng, poisson
from .config import SynthConfig
from .hospital_stays import Code, Stay, discharge, elective_stay, emergency_stay, emergency_weights
from .population import Population, drawn_deficit_specs, frailty_category
from .tables import step_value, table

CONDITION_KEYS = tuple(c["key"] for c in table("conditions")["conditions"])
DEFICIT_KEYS = tuple(str(d["key"]) for d in drawn_deficit_specs())
DEATH_SCALE = 1.25  # the age-specific death rates in rates.json sum to 7.2 per 1,000 on this age structure


@dataclass(slots=True)
class Episode:
    kind: str
    start: int
    end: int  # 0 while it continues
    contacts: list[int] = field(default_factory=list)
    outcome: str = ""
    hours: int = 0


@dataclass(slots=True)
class Life:
    person: int
    resident: bool
    age: float
    death: int = 0
    died_in_hospital: bool = False
    stays: list[Stay] = field(default_factory=list)
    ae_only: list[int] = field(default_factory=list)
    outpatients: list[int] = field(default_factory=list)
    gp: list[tuple[int, int]] = field(default_factory=list)  # (day, consultation kind: 0-2 surgery/phone, 3 home)
    community: list[Episode] = field(default_factory=list)
    mental_health: list[Episode] = field(default_factory=list)
    social_care: list[Episode] = field(default_factory=list)
    voluntary: list[Episode] = field(default_factory=list)
    conditions: frozenset[str] = frozenset()
    deficits: frozenset[str] = frozenset()
    outcome: int = 0
    probability: float = 0.0


def _years(lo: int, hi: int, index_day: int, end_day: int) -> list[tuple[int, int, bool]]:
    """(first day, last day, is the year after the index date) for each year of the window, clamped to [lo, hi]."""
    spans = []
    last = index_day
    while last >= lo:
        spans.append((max(last - 364, lo), min(last, hi), False))
        last -= 365
    spans.append((index_day + 1, min(index_day + 365, hi), True))
    if end_day > index_day + 365:
        spans.append((index_day + 366, min(end_day, hi), False))
    return [s for s in spans if s[0] <= s[1]]


class LifeBuilder:
    """Draws one person's events; holds the place-wide settings so each person costs only their own draws."""

    def __init__(self, config: SynthConfig, pop: Population, care: CareStatus) -> None:
        self.config, self.pop, self.care = config, pop, care
        self.rates = table("rates")
        self.start_day, self.end_day = config.start.toordinal(), config.end.toordinal()
        self.index_day = config.index_date.toordinal()
        conditions = table("conditions")["conditions"]
        self.icd10 = [[(c["icd10"], c["icd10_display"]) for c in spec["codes"]] for spec in conditions]

    def build(self, person: int) -> Life:
        pop, care, rates = self.pop, self.care, self.rates
        rng = person_rng(self.config.seed, person)
        resident = pop.is_resident(person)
        life = Life(person, resident, float(pop.age[person]))
        birth = int(pop.birth[person])
        life.death = int(pop.death[person])
        lo, hi = max(self.start_day, birth), (life.death if life.death else self.end_day)
        has = pop.conditions[person]
        life.conditions = frozenset(k for k, flag in zip(CONDITION_KEYS, has, strict=True) if flag)
        life.deficits = frozenset(k for k, flag in zip(DEFICIT_KEYS, pop.deficits[person], strict=True) if flag)
        efi = int(pop.efi_count[person])
        chronic: list[Code] = [self.icd10[c][person % len(self.icd10[c])] for c in range(len(has)) if has[c]]
        weights = emergency_weights(life.age, life.conditions)
        emergency_risk, contact = float(pop.emergency_risk[person]), float(pop.contact_rate[person])
        readmit = min(0.3, rates["readmission_chain"] * emergency_risk**0.35)
        in_home = int(care.care_home[person]) >= 0
        for first, last, after_index in _years(lo, hi, self.index_day, self.end_day):
            length = (last - first + 1) / 365.0
            age = (
                life.age - (self.index_day - (first + last) / 2) / 365.25
                if resident
                else life.age - (life.death - (first + last) / 2) / 365.25
            )
            if age < 0:
                continue
            if after_index:
                age = life.age  # the rate is fixed at the index date: the truth file's probability holds exactly
            final_year = bool(life.death) and life.death - last < 365
            base = step_value(rates["emergency_admissions"], age) * (1 - rates["readmission_probability"])
            primary_rate = base * emergency_risk * (2.5 if final_year else 1.0)
            if after_index:
                life.probability = 1 - math.exp(-primary_rate)
            fall_share = (0.068 * (1.6 if "falls" in life.deficits else 0.85)) if age >= 65 else 0.02
            for _ in range(poisson(rng, primary_rate * length)):
                stay = emergency_stay(rng, rng.randint(first, last), age, weights, chronic, efi, fall_share)
                life.stays.append(stay)
                while rng.random() < readmit:
                    back = stay.end + rng.randint(1, 30)
                    if back > last or (stay.end <= self.index_day < back):
                        break  # readmissions never cross the index date, so the truth stays exact
                    stay = emergency_stay(rng, back, age, weights, chronic, efi, fall_share)
                    stay.readmission = True
                    life.stays.append(stay)
            ae = step_value(rates["ae_without_admission"], age) * math.sqrt(emergency_risk)
            life.ae_only.extend(rng.randint(first, last) for _ in range(poisson(rng, ae * length)))
            elective = step_value(rates["elective_admissions"], age) * math.sqrt(contact)
            for _ in range(poisson(rng, elective * length)):
                life.stays.append(elective_stay(rng, rng.randint(first, last), age, life.conditions))
            outpatient = step_value(rates["outpatient_appointments"], age) * contact
            life.outpatients.extend(rng.randint(first, last) for _ in range(poisson(rng, outpatient * length)))
            visits_at_home = in_home or "housebound" in life.deficits
            for _ in range(poisson(rng, step_value(rates["gp_consultations"], age) * contact * length)):
                kind = 3 if visits_at_home and rng.random() < 0.4 else rng.choices((0, 1, 2), (0.55, 0.35, 0.1))[0]
                life.gp.append((rng.randint(first, last), kind))
            if after_index and resident:
                self._outcome_year_death(rng, life, age, first, last)
        self._settle_stays(rng, life, lo, hi, efi, in_home)
        return life

    def _outcome_year_death(self, rng: random.Random, life: Life, age: float, first: int, last: int) -> None:
        hazard = step_value(self.rates["deaths"], age) * DEATH_SCALE * float(self.pop.death_risk[life.person])
        if rng.random() >= 1 - math.exp(-hazard):
            return
        admitted = [s for s in life.stays if s.emergency and first <= s.start <= last]
        if admitted:  # death at the end of the last admission: admissions are never lost, so the truth holds
            max(admitted, key=lambda s: s.start).fatal = True
            life.died_in_hospital = True
        else:
            life.death = rng.randint(first, last)

    def _settle_stays(self, rng: random.Random, life: Life, lo: int, hi: int, efi: int, in_home: bool) -> None:
        stays = sorted(life.stays, key=lambda s: (s.start, not s.emergency))
        settled: list[Stay] = []
        for stay in stays:
            if settled and stay.start <= settled[-1].end:
                shift = settled[-1].end + 1 - stay.start
                stay.start += shift
                stay.end += shift
            settled.append(stay)
        for stay in settled:
            if stay.emergency:
                discharge(rng, stay, in_home)
                stay.via_ae = rng.random() < self.rates["ae_share_of_emergency_admissions"]
        if life.death and not life.resident:
            settled = [s for s in settled if s.end < life.death]
            if rng.random() < self.rates["deaths_in_hospital"] * 1.1:
                age = life.age
                weights = emergency_weights(age, life.conditions)
                start = max(lo, life.death - max(1, int(rng.expovariate(1 / 9.0))))
                while settled and settled[-1].end >= start:
                    settled.pop()
                final = emergency_stay(rng, start, age, weights, [], efi, 0.05)
                final.end, final.destination, final.via_ae = life.death, "died", rng.random() < 0.8
                settled.append(final)
                life.died_in_hospital = True
        elif life.died_in_hospital:
            for stay in settled:
                if stay.fatal:
                    stay.end -= stay.delayed_days
                    stay.destination, stay.delayed_days, stay.reablement = "died", 0, False
                    life.death = stay.end
        ceiling = life.death if life.death else hi
        life.stays = [s for s in settled if s.start <= ceiling]
        for stay in life.stays:
            stay.end = min(stay.end, ceiling if stay.destination == "died" else max(stay.end, stay.start))
        life.outcome = int(any(s.emergency and self.index_day < s.start <= self.index_day + 365 for s in life.stays))
        life.ae_only = sorted(d for d in life.ae_only if d <= ceiling)
        life.outpatients = sorted(d for d in life.outpatients if d <= ceiling)
        life.gp = sorted(g for g in life.gp if g[0] <= ceiling)


def frailty_of(pop: Population, person: int) -> int:
    return frailty_category(int(pop.efi_count[person])) if pop.age[person] >= 65 else 0
