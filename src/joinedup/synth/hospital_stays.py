"""Acute hospital stays for one person: why they came in (ICD-10), how long they stayed, where they went and
whether they came back within 30 days."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .chance import lognormal_days, weighted
from .tables import table

Code = tuple[str, str]


@dataclass(slots=True)
class Stay:
    start: int
    end: int
    emergency: bool
    primary: Code
    secondary: list[Code] = field(default_factory=list)
    external_cause: Code | None = None
    procedures: list[Code] = field(default_factory=list)
    destination: str = "usual_residence"
    delayed_days: int = 0
    via_ae: bool = False
    readmission: bool = False
    fall: bool = False
    acsc: bool = False
    reablement: bool = False
    age: float = 0.0
    fatal: bool = False  # the person died at the end of this stay


@cache
def _emergency_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = table("hospital")["emergency"]
    return groups


def _age_class(age: float) -> int:
    return 0 if age < 18 else 1 if age < 65 else 2


def emergency_weights(age: float, conditions: frozenset[str]) -> list[float]:
    """How likely each emergency diagnosis group is for this person (age group, long-term conditions)."""
    weights = []
    for group in _emergency_groups():
        weight = float(group["weights"][_age_class(age)])
        needs = group.get("needs")
        if needs is not None:
            weight = float(group["boost"]) if needs in conditions else 0.0
        elif group.get("needs_boost") in conditions:
            weight += float(group["boost"])
        weights.append(weight)
    return weights


def _secondaries(rng: random.Random, chronic: list[Code], age: float, efi: int) -> list[Code]:
    codes = list(chronic[:6])
    if age >= 75:
        for code in table("hospital")["secondary_for_frailty"]:
            if rng.random() < 0.03 * efi:
                codes.append((code[0], code[1]))
    return codes


def emergency_stay(
    rng: random.Random, start: int, age: float, weights: list[float], chronic: list[Code], efi: int, fall_share: float
) -> Stay:
    """One emergency admission starting on `start` (destination and delays are set by `discharge`)."""
    hospital = table("hospital")
    if rng.random() < fall_share:
        injury = rng.choice(hospital["fall_injuries"])
        cause = rng.choice(hospital["fall_causes"])
        stay = Stay(start, start, True, (injury[0], injury[1]), fall=True, external_cause=(cause[0], cause[1]))
        if injury[0] in ("S72.0", "S72.1"):
            procedure = hospital["hip_fracture_procedure"]
            stay.procedures.append((procedure[0], procedure[1]))
    else:
        group = weighted(rng, _emergency_groups(), weights)
        code = rng.choice(group["codes"])
        stay = Stay(start, start, True, (code[0], code[1]), acsc=bool(group.get("acsc")))
    stay.age = age
    stay.secondary = _secondaries(rng, chronic, age, efi)
    median, sigma = table("rates")["length_of_stay"]["65_plus" if age >= 65 else "under_65"]
    stay.end = start + lognormal_days(rng, median * (1.5 if stay.fall else 1.0), sigma)
    return stay


def discharge(rng: random.Random, stay: Stay, in_care_home: bool) -> None:
    """Where the person went, and for how many days a discharge waited on a place to go."""
    rates = table("rates")
    shares: dict[str, float] = rates["discharge"]["65_plus" if stay.age >= 65 else "under_65"]
    destination = weighted(rng, list(shares), list(shares.values()))
    if in_care_home and destination == "care_home":
        destination = "usual_residence"  # a care home resident going home is going to their usual residence
    stay.destination = destination
    if stay.age >= 65 and destination == "usual_residence" and not in_care_home:
        stay.reablement = rng.random() < rates["reablement_after_discharge_65_plus"]
    waits = stay.age >= 65 and (destination != "usual_residence" or stay.reablement)
    if waits and rng.random() < rates["delay_probability"]:
        mean = rates["delay_mean_days"]
        stay.delayed_days = 1 + int(rng.expovariate(1.0 / mean))
        stay.end += stay.delayed_days


def elective_stay(rng: random.Random, start: int, age: float, conditions: frozenset[str]) -> Stay:
    hospital = table("hospital")
    weights = []
    for option in hospital["elective"]:
        weight = float(option["weights"][_age_class(age)])
        if option.get("needs"):
            weight = float(option["boost"]) if option["needs"] in conditions else 0.0
        weights.append(weight)
    option = weighted(rng, hospital["elective"], weights)
    end = start if option["day_case"] else start + 1 + int(rng.expovariate(0.4))
    procedures = [(p[0], p[1]) for p in option["procedures"]]
    diagnosis = option["diagnosis"]
    return Stay(start, end, False, (diagnosis[0], diagnosis[1]), procedures=procedures, age=age)
