"""Who the council supports, chosen for everyone at once: care home residents, long-term home care, carers and
telecare. Each is a quota of the calibrated size filled by the people with the greatest need (frailty, dementia,
age, the latent liability), so the rates hold at any size and need drives support."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import FULL_BOROUGH, SynthConfig
from .geography import Borough
from .population import Array, Population, drawn_deficit_specs
from .tables import table


@dataclass
class CareStatus:
    care_home: Array  # index of the care home the person lives in (-1: none)
    care_home_since: Array  # ordinal day of the move
    council_funded: Array  # the council arranges (and part-funds) the placement or package
    home_care_since: Array  # ordinal day long-term home care began (0: none)
    home_care_hours: Array  # hours a week
    carer: Array  # an unpaid carer known to social care
    telecare_since: Array  # ordinal day telecare was installed (0: none)


def _top(score: Array, candidates: Array, count: int) -> Array:
    members = np.flatnonzero(candidates)
    if count <= 0 or len(members) == 0:
        return np.array([], dtype=int)
    ranked: Array = members[np.argsort(-score[members], kind="stable")[:count]]
    return ranked


def _deficit(pop: Population, key: str) -> Array:
    keys = [d["key"] for d in drawn_deficit_specs()]
    column: Array = pop.deficits[:, keys.index(key)]
    return column


def _place_in_homes(
    rng: np.random.Generator,
    borough: Borough,
    pop: Population,
    people: Array,
    status: CareStatus,
) -> None:
    beds = np.array([h.beds for h in borough.care_homes], dtype=float)
    for person in people:
        hood = borough.areas[pop.area[person]].neighbourhood
        local = np.array([h.neighbourhood == hood for h in borough.care_homes])
        weights = beds * np.where(local, 1.0, 0.05)
        status.care_home[person] = rng.choice(len(beds), p=weights / weights.sum())


def select_care(config: SynthConfig, borough: Borough, pop: Population) -> CareStatus:
    """Who is in a care home, has home care, cares for someone or has telecare, as at the index date."""
    rng = np.random.default_rng([config.seed, 303])
    rates = table("rates")
    total, residents = pop.total, pop.residents
    index_day = config.index_date.toordinal()
    report_start = index_day - 364
    status = CareStatus(
        care_home=np.full(total, -1),
        care_home_since=np.zeros(total, dtype=np.int64),
        council_funded=np.zeros(total, dtype=bool),
        home_care_since=np.zeros(total, dtype=np.int64),
        home_care_hours=np.zeros(total, dtype=int),
        carer=np.zeros(total, dtype=bool),
        telecare_since=np.zeros(total, dtype=np.int64),
    )
    is_resident = np.arange(total) < residents
    age, efi = pop.age, pop.efi_count
    dementia = pop.conditions[:, [c["key"] for c in table("conditions")["conditions"]].index("dementia")]
    older, working_age = age >= 65, (age >= 18) & (age < 65)
    need = 0.12 * efi + 1.2 * dementia + 0.08 * (age - 80) + 0.3 * pop.z + rng.normal(0, 0.6, total)

    # Care homes: about 1,700 beds at 90% occupancy at full size; residents mostly 80+.
    spec = table("place")
    capacity = round(spec["care_home_beds"] * spec["care_home_occupancy"] * residents / FULL_BOROUGH)
    in_home = _top(need, is_resident & older, capacity)
    status.council_funded[in_home] = rng.random(len(in_home)) < rates["care_home_council_funded"]
    newly = _top(
        rng.random(total),
        np.isin(np.arange(total), in_home) & status.council_funded,
        round(rates["permanent_admissions_65_plus"] * (older & is_resident).sum()),
    )
    young = _top(
        0.8 * pop.z + rng.normal(0, 1, total),
        is_resident & working_age,
        round(rates["permanent_admissions_18_64"] * (working_age & is_resident).sum()),
    )
    status.council_funded[young] = True
    placed = np.concatenate([in_home, young])
    status.care_home_since[placed] = report_start - 1 - (rng.exponential(2.5 * 365, len(placed))).astype(np.int64)
    recent = np.concatenate([newly, young])
    status.care_home_since[recent] = report_start + rng.integers(0, 365, len(recent))
    # Some people who died were living in a care home; their moves all predate the reporting year.
    decedents = np.flatnonzero(~is_resident & (age >= 75))
    gone = decedents[rng.random(len(decedents)) < np.where(age[decedents] >= 85, 0.35, 0.15)]
    since = pop.death[gone] - rng.exponential(1.5 * 365, len(gone)).astype(np.int64)
    status.care_home_since[gone] = np.where(since >= report_start, report_start - 1 - (since - report_start), since)
    status.council_funded[gone] = rng.random(len(gone)) < rates["care_home_council_funded"]
    _place_in_homes(rng, borough, pop, np.concatenate([placed, gone]), status)

    # Long-term support: council-funded care home residents plus home care, to the calibrated share.
    at_home = is_resident & (status.care_home < 0)
    for band, share in ((older, rates["long_term_support_65_plus"]), (working_age, rates["long_term_support_18_64"])):
        wanted = round(share * (band & is_resident).sum()) - int((band & is_resident & status.council_funded).sum())
        chosen = _top(
            need if band is older else 0.8 * pop.z + 0.1 * efi + rng.normal(0, 0.8, total), at_home & band, wanted
        )
        status.home_care_since[chosen] = index_day - 30 - rng.exponential(2 * 365, len(chosen)).astype(np.int64)
        status.home_care_hours[chosen] = np.clip(np.round(4 + 1.1 * efi[chosen] + rng.normal(0, 3, len(chosen))), 2, 35)

    free = at_home & (status.home_care_since == 0)
    carer_score = -(((age - 58) / 15) ** 2) + 0.4 * pop.female + rng.normal(0, 1, total)
    carers = round(rates["carers_adults"] * (is_resident & (age >= 18)).sum())
    status.carer[_top(carer_score, free & (age >= 18), carers)] = True
    tele_score = need + 0.8 * _deficit(pop, "social_vulnerability") + 0.6 * _deficit(pop, "falls")
    tele = _top(tele_score, at_home & older, round(rates["telecare_65_plus"] * (older & is_resident).sum()))
    status.telecare_since[tele] = index_day - 10 - rng.exponential(2 * 365, len(tele)).astype(np.int64)
    return status
