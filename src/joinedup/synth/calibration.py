"""What was generated, measured against the calibration targets (data/calibration.json).

Point-in-time figures (age structure, prevalence, frailty, support) are measured on the residents at the index
date; activity (admissions, attendances, consultations, deaths, admissions to care) over the reporting year, the
365 days up to the index date, per resident. Figures come from the generator's own events, which are exactly
what the feeds record.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from .care_selection import CareStatus
from .config import FULL_BOROUGH, SynthConfig
from .geography import Borough
from .life import Life
from .population import ETHNIC_GROUPS, Population, frailty_category
from .tables import table


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    key: str
    group: str
    measure: str
    target: float | None
    generated: float
    kind: str  # points, relative, none
    tolerance: float

    def allowed(self, scale: float = 1.0) -> float | None:
        if self.target is None or self.kind == "none":
            return None
        return self.tolerance * scale * (abs(self.target) if self.kind == "relative" else 1.0)

    def within(self, scale: float = 1.0) -> bool | None:
        """Is the generated figure within tolerance (widened by `scale` for smaller places)? None: not judged."""
        allowed = self.allowed(scale)
        if allowed is None or self.target is None:
            return None
        return abs(self.generated - self.target) <= allowed + 1e-9

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "within": self.within()}


class Tally:
    """Counts events of the reporting year as people stream past (nothing per person is kept)."""

    def __init__(self, config: SynthConfig) -> None:
        self.last = config.index_date.toordinal()
        self.first = self.last - 364
        self.window_start = config.start.toordinal()
        self.window_days = self.last - self.window_start + 1
        self.counts: Counter[str] = Counter()
        self.stays_65: list[int] = []

    def _in_year(self, day: int) -> bool:
        return self.first <= day <= self.last

    def add(self, life: Life) -> None:
        c, age = self.counts, life.age
        older, oldest = age >= 65, age >= 85
        emergencies = sorted((s for s in life.stays if s.emergency), key=lambda s: s.start)
        for i, stay in enumerate(emergencies):
            if not self._in_year(stay.start):
                continue
            c["emergency"] += 1
            c["emergency_65"] += older
            c["emergency_85"] += oldest
            c["acsc"] += stay.acsc
            c["falls_65"] += older and stay.fall
            following = emergencies[i + 1] if i + 1 < len(emergencies) else None
            c["readmitted"] += following is not None and following.start - stay.end <= 30
            if older:
                self.stays_65.append(stay.end - stay.start)
            if stay.destination != "died":
                c["discharges"] += 1
                c["usual_residence"] += stay.destination == "usual_residence"
                if older:
                    c["discharges_65"] += 1
                    c["reablement"] += stay.reablement
        for stay in life.stays:
            c["elective"] += (not stay.emergency) and self._in_year(stay.start)
            if stay.delayed_days:  # over every year before the index date: delays are few and long-tailed
                c["delayed_days"] += sum(
                    1
                    for d in range(stay.end - stay.delayed_days + 1, stay.end + 1)
                    if self.window_start <= d <= self.last
                )
        c["ae"] += sum(1 for s in life.stays if s.via_ae and self._in_year(s.start))
        c["ae"] += sum(1 for d in life.ae_only if self._in_year(d))
        gp = sum(1 for d, _ in life.gp if self._in_year(d))
        c["gp"] += gp
        c["gp_65"] += gp * older
        c["gp_85"] += gp * oldest
        if life.death and self._in_year(life.death):
            c["deaths"] += 1
            c["deaths_in_hospital"] += life.died_in_hospital
        for episode in life.social_care:
            # Reablement outcomes over every year before the index date too (the BCF takes one quarter a year).
            if episode.kind == "reablement" and older and self.window_start <= episode.start <= self.last - 90:
                c["reablement_followed"] += 1
                c["reablement_at_home"] += episode.outcome == "at_home"

    def rows(self, pop: Population, care: CareStatus, borough: Borough) -> list[CalibrationRow]:
        figures = {**_people(pop, care, borough), **self._activity(pop, care)}
        return [
            CalibrationRow(
                t["key"],
                t["group"],
                t["measure"],
                t["target"],
                round(float(figures[t["key"]]), 2),
                t["kind"],
                t["tolerance"],
            )
            for t in table("calibration")["targets"]
        ]

    def _activity(self, pop: Population, care: CareStatus) -> dict[str, float]:
        c, r = self.counts, pop.residents
        age = pop.age[:r]
        n65, n85 = max(1, int((age >= 65).sum())), max(1, int((age >= 85).sum()))
        adults = max(1, int((age >= 18).sum()))
        working = max(1, int(((age >= 18) & (age < 65)).sum()))
        since, funded = care.care_home_since, care.council_funded
        admitted = funded & (care.care_home >= 0) & (since >= self.first) & (since <= self.last)
        # care home admissions are counted by age at the index date (or at death)
        return {
            "emergency_per_1000": 1000 * c["emergency"] / r,
            "emergency_65_per_1000": 1000 * c["emergency_65"] / n65,
            "emergency_85_per_1000": 1000 * c["emergency_85"] / n85,
            "ae_per_1000": 1000 * c["ae"] / r,
            "elective_per_1000": 1000 * c["elective"] / r,
            "falls_65_per_100000": 100000 * c["falls_65"] / n65,
            "readmitted_30_pct": 100 * c["readmitted"] / max(1, c["emergency"]),
            "median_los_65": float(statistics.median(self.stays_65)) if self.stays_65 else 0.0,
            "los_over_21_65_pct": 100 * sum(s > 21 for s in self.stays_65) / max(1, len(self.stays_65)),
            "usual_residence_pct": 100 * c["usual_residence"] / max(1, c["discharges"]),
            "dtoc_per_100000": 100000 * c["delayed_days"] / self.window_days / adults,
            "gp_per_person": c["gp"] / r,
            "gp_65_per_person": c["gp_65"] / n65,
            "gp_85_per_person": c["gp_85"] / n85,
            "deaths_per_1000": 1000 * c["deaths"] / r,
            "deaths_in_hospital_pct": 100 * c["deaths_in_hospital"] / max(1, c["deaths"]),
            "avoidable_per_100000": 100000 * c["acsc"] / r,
            "permanent_65_per_100000": 100000 * int((admitted & (pop.age >= 65)).sum()) / n65,
            "permanent_18_64_per_100000": 100000 * int((admitted & (pop.age >= 18) & (pop.age < 65)).sum()) / working,
            "reablement_at_home_pct": 100 * c["reablement_at_home"] / max(1, c["reablement_followed"]),
            "reablement_offered_pct": 100 * c["reablement"] / max(1, c["discharges_65"]),
        }


def _people(pop: Population, care: CareStatus, borough: Borough) -> dict[str, float]:
    r = pop.residents
    age, female, group = pop.age[:r], pop.female[:r], pop.ethnic_group[:r]
    older, oldest, adults = age >= 65, age >= 85, age >= 18
    working = adults & ~older
    keys = [c["key"] for c in table("conditions")["conditions"]]
    has = pop.conditions[:r]
    count = has.sum(axis=1)
    frailty = np.array([frailty_category(int(x)) for x in pop.efi_count[:r][older]])
    deciles = np.array([borough.areas[a].decile for a in pop.area[:r]])
    in_home = care.care_home[:r] >= 0
    funded = care.council_funded[:r] & in_home
    home_care = care.home_care_since[:r] > 0
    beds = sum(h.beds for h in borough.care_homes)

    def pct(mask: np.ndarray, within: np.ndarray | None = None) -> float:
        base = within if within is not None else np.ones(r, dtype=bool)
        return 100.0 * float((mask & base).sum()) / max(1, int(base.sum()))

    figures = {
        "adults_pct": pct(adults),
        "aged_65_pct": pct(older),
        "aged_85_pct": pct(oldest),
        "female_pct": pct(female),
        "female_65_pct": pct(female, older),
        "female_85_pct": pct(female, oldest),
        "most_deprived_fifth_pct": pct(deciles <= 2),
        "neighbourhoods": float(len(borough.neighbourhoods)),
        "gp_practices": float(len(borough.practices)),
        "care_homes": float(len(borough.care_homes)),
        "care_home_beds_full_size": float(beds),
        "care_home_occupancy_pct": 100.0 * in_home.sum() / max(1.0, beds * r / FULL_BOROUGH),
        "dementia_65_pct": pct(has[:, keys.index("dementia")], older),
        "multimorbid_adults_pct": pct(count >= 2, adults),
        "multimorbid_65_pct": pct(count >= 2, older),
        "lts_65_pct": pct(funded | home_care, older),
        "lts_18_64_pct": pct(funded | home_care, working),
        "carers_pct": pct(care.carer[:r], adults),
        "telecare_65_pct": pct(care.telecare_since[:r] > 0, older),
    }
    for g, name in enumerate(ETHNIC_GROUPS):
        figures[f"ethnicity_{name.lower()}_pct"] = pct(group == g)
    for c, key in enumerate(keys):
        minimum = table("conditions")["conditions"][c]["min_age"]
        figures[f"{key}_pct"] = pct(has[:, c], age >= minimum)
    for category, name in enumerate(("fit", "mild", "moderate", "severe")):
        figures[f"efi_{name}_pct"] = 100.0 * float((frailty == category).sum()) / max(1, len(frailty))
    return figures
