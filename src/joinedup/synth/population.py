"""Who lives in the place, built for everyone at once with numpy: age, sex, ethnicity, address, GP practice, a
latent health liability, long-term conditions, frailty deficits and each person's relative risks.

The hidden causal structure lives here. One latent liability `z` (unobserved) raises the chance of every
condition and of frailty; conditions, frailty and deprivation (observed in the records) and `z` together set
each person's relative risk of admission, consultation and death. Prevalences are met exactly by a liability
threshold model: within each age band the people with the highest liability have the condition, as many as the
age-specific prevalence asks for, so calibration holds at any size while who has what stays causal.

Residents are the `people` alive at the index date (ages as at that date). Decedents — people who died between
the window's start and the index date — are generated beside them at the calibrated death rate, with ages as at
death, and take their conditions from the residents' thresholds, so both are one population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .config import SynthConfig
from .geography import Borough
from .tables import step_value, step_values, table

Array = np.ndarray
HERITAGES = ("british", "south_asian", "black", "jewish", "east_european", "chinese")
ETHNIC_GROUPS = ("White", "Asian", "Black", "Mixed", "Other")
FRAILTY_QUANTILES = (0.50, 0.85, 0.97)  # fit / mild / moderate / severe at 65+ (Clegg et al. 2016)
FRAILTY_RANGES = ((0, 4), (5, 8), (9, 12), (13, 18))


@dataclass
class Population:
    residents: int
    total: int
    age: Array  # years: at the index date for residents, at death for decedents
    birth: Array  # proleptic ordinal day
    death: Array  # ordinal day of a death before the index date; 0 for residents
    female: Array
    ethnic_group: Array  # index into ETHNIC_GROUPS
    ethnic_code: Array  # index into that group's codes
    heritage: Array  # index into HERITAGES, for names
    area: Array
    practice: Array
    z: Array  # the latent health liability: never written to a feed
    deprivation: Array  # standardised, higher is more deprived
    conditions: Array  # bool (total, conditions)
    onset: Array  # ordinal day each condition was first recorded
    deficits: Array  # bool (total, drawn deficits): the eFI deficits that are not long-term conditions
    efi_count: Array
    emergency_risk: Array  # relative risk of emergency admission (mean 1 in each age band among residents)
    contact_rate: Array  # relative rate of GP and outpatient contact
    death_risk: Array
    nhs_number: Array

    def is_resident(self, person: int) -> bool:
        return person < self.residents


def _largest_remainder(shares: Array, total: int) -> Array:
    raw = shares / shares.sum() * total
    counts: Array = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def _band_of(age: Array) -> Array:
    starts = np.array([b[0] for b in table("place")["age_bands"]], dtype=float)
    result: Array = np.searchsorted(starts, age, side="right") - 1
    return result


def _ages(rng: np.random.Generator, residents: int, decedents: int) -> tuple[Array, Array]:
    bands = table("place")["age_bands"]
    shares = np.array([b[2] for b in bands], dtype=float)
    lows = np.array([b[0] for b in bands], dtype=float)
    highs = np.array([b[1] for b in bands], dtype=float)
    deaths = np.array([step_value(table("rates")["deaths"], lo) for lo in lows])
    resident_band = np.repeat(np.arange(len(bands)), _largest_remainder(shares, residents))
    decedent_band = np.repeat(np.arange(len(bands)), _largest_remainder(shares * deaths, decedents))
    band = np.concatenate([resident_band, decedent_band])
    age = lows[band] + rng.random(len(band)) * (highs[band] - lows[band])
    return age, band


def _quota_sex(rng: np.random.Generator, band: Array, residents: int) -> Array:
    lows = [b[0] for b in table("place")["age_bands"]]
    female = np.zeros(len(band), dtype=bool)
    for b, low in enumerate(lows):
        share = step_value(table("place")["female_share"], low)
        members = np.flatnonzero(band == b)
        resident_members = members[members < residents]
        chosen = rng.permutation(resident_members)[: round(share * len(resident_members))]
        female[chosen] = True
        others = members[members >= residents]
        female[others] = rng.random(len(others)) < share
    return female


def _places(rng: np.random.Generator, borough: Borough, total: int) -> tuple[Array, Array]:
    hoods = table("place")["neighbourhoods"]
    hood = rng.choice(len(hoods), total, p=np.array([h["share"] for h in hoods]) / sum(h["share"] for h in hoods))
    areas_by_hood = [np.array([a.index for a in borough.areas if a.neighbourhood == h]) for h in range(len(hoods))]
    area = np.array([areas_by_hood[h][rng.integers(len(areas_by_hood[h]))] for h in hood])
    practice = np.empty(total, dtype=int)
    for h in range(len(hoods)):
        local = [p for p in borough.practices if p.neighbourhood == h]
        members = np.flatnonzero(hood == h)
        weights = np.array([p.weight for p in local])
        practice[members] = np.array([p.index for p in local])[rng.choice(len(local), len(members), p=weights)]
    return area, practice


def _ethnicity(rng: np.random.Generator, borough: Borough, area: Array, residents: int) -> tuple[Array, Array, Array]:
    spec = table("place")
    groups, hoods = spec["ethnic_groups"], spec["neighbourhoods"]
    hood = np.array([borough.areas[a].neighbourhood for a in area])
    total = len(area)
    group = np.full(total, ETHNIC_GROUPS.index("White"))
    free = np.ones(total, dtype=bool)
    for name in ("Asian", "Black", "Mixed", "Other"):
        # Exact quotas, placed by neighbourhood affinity (Efraimidis-Spirakis weighted sampling).
        affinity = np.array([hoods[h]["affinity"][name] for h in hood])
        keys = np.where(free, rng.exponential(1.0, total) / affinity, np.inf)
        chosen = np.argsort(keys, kind="stable")[: round(groups[name]["share"] * total)]
        group[chosen] = ETHNIC_GROUPS.index(name)
        free[chosen] = False
    code = np.zeros(total, dtype=int)
    heritage = np.zeros(total, dtype=int)
    for g, name in enumerate(ETHNIC_GROUPS):
        members = np.flatnonzero(group == g)
        if name == "White":
            code[members] = rng.choice(3, len(members), p=spec["white_code_weights"])
            jewish = np.array([hoods[h].get("jewish_community", 0.0) for h in hood[members]])
            is_jewish = rng.random(len(members)) < jewish
            code[members[is_jewish]] = 2
            heritage[members[code[members] == 2]] = HERITAGES.index("east_european")
            heritage[members[is_jewish]] = HERITAGES.index("jewish")
        else:
            code[members] = rng.integers(0, len(groups[name]["codes"]), len(members))
            heritage[members] = HERITAGES.index(
                {"Asian": "south_asian", "Black": "black", "Mixed": "british", "Other": "chinese"}[name]
            )
    return group, code, heritage


def _cutoffs(liability: Array, band: Array, eligible: Array, expected: Array, residents: int, bands: int) -> Array:
    """Per age band, the liability above which a person has the condition: the k-th highest among residents."""
    cut = np.full(bands, np.inf)
    for b in range(bands):
        members = np.flatnonzero((band[:residents] == b) & eligible[:residents])
        k = round(float(expected[members].sum()))
        if k > 0:
            cut[b] = np.partition(liability[members], len(members) - k)[len(members) - k]
    return cut


def _conditions(
    rng: np.random.Generator,
    pop_age: Array,
    band: Array,
    female: Array,
    z: Array,
    dep: Array,
    residents: int,
    ref_day: Array,
) -> tuple[Array, Array]:
    specs = table("conditions")["conditions"]
    total, bands = len(pop_age), len(table("place")["age_bands"])
    has = np.zeros((total, len(specs)), dtype=bool)
    onset = np.zeros((total, len(specs)), dtype=np.int64)
    for c, spec in enumerate(specs):
        eligible = pop_age >= spec["min_age"]
        shape = step_values(spec["shape"], pop_age) * eligible
        scale = spec["prevalence"] * eligible[:residents].sum() / max(shape[:residents].sum(), 1e-9)
        expected = np.minimum(shape * scale, 0.95)
        liability = (
            spec["liability"] * z + spec["deprivation"] * dep + spec["female"] * female * 0.5 + rng.normal(0, 1, total)
        )
        cut = _cutoffs(liability, band, eligible, expected, residents, bands)
        has[:, c] = eligible & (liability >= cut[band])
        years = np.minimum(rng.exponential(7.0, total), np.maximum(pop_age - spec["min_age"], 0.1))
        onset[:, c] = ref_day - (years * 365.25).astype(np.int64)
    return has, onset


def _linked_deficits(has: Array) -> Array:
    specs = table("conditions")["conditions"]
    keys = [s["key"] for s in specs]
    linked = {s["deficit"] for s in specs if s["deficit"]}
    count = np.zeros(len(has), dtype=int)
    for deficit in linked:
        columns = [keys.index(s["key"]) for s in specs if s["deficit"] == deficit]
        count += has[:, columns].any(axis=1)
    return count


def drawn_deficit_specs() -> list[dict[str, object]]:
    """The deficits drawn for frailty (those that are not long-term conditions), in data-file order."""
    return [d for d in table("deficits")["deficits"] if "condition" not in d]


def _deficits(rng: np.random.Generator, age: Array, z: Array, linked: Array, residents: int) -> tuple[Array, Array]:
    specs = drawn_deficit_specs()
    weights = np.array([float(str(d["weight"])) for d in specs])
    total = len(age)
    frailty = 0.9 * z + 0.05 * (age - 65) + 0.25 * linked + rng.normal(0, 0.7, total)
    older = age >= 65
    older_residents = np.flatnonzero(older[:residents])
    cuts = np.quantile(frailty[older_residents], FRAILTY_QUANTILES) if len(older_residents) else np.full(3, np.inf)
    category = np.searchsorted(cuts, frailty)
    low = np.array([FRAILTY_RANGES[c][0] for c in category])
    high = np.array([FRAILTY_RANGES[c][1] for c in category])
    target = np.where(
        category == 0,
        np.minimum(rng.integers(low, high + 1), linked + rng.integers(0, 3, total)),
        rng.integers(low, high + 1),
    )
    younger_extra = np.minimum(rng.poisson(0.25 * np.exp(0.7 * z) * np.maximum(age, 1) / 40), 6)
    extra = np.where(older, np.clip(target - linked, 0, len(specs)), younger_extra)
    # Weighted sampling without replacement, vectorised: the `extra` smallest exponential keys per row.
    keys = rng.exponential(1.0, (total, len(specs))) / weights
    ranks = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
    chosen = ranks < extra[:, None]
    return chosen, linked + chosen.sum(axis=1)


def _normalised(log_risk: Array, band: Array, residents: int) -> Array:
    risk = np.exp(log_risk)
    result: Array = risk.copy()
    for b in np.unique(band):
        members = band[:residents] == b
        mean = risk[:residents][members].mean() if members.any() else float(np.exp(log_risk[band == b]).mean())
        result[band == b] = risk[band == b] / mean
    return result


def _nhs_numbers(rng: np.random.Generator, count: int) -> Array:
    """Distinct valid NHS numbers from the 999 range, which the NHS reserves for testing."""
    stems = np.arange(999_000_000, 1_000_000_000, dtype=np.int64)
    total = np.zeros(len(stems), dtype=np.int64)
    rest = stems.copy()
    for weight in (2, 3, 4, 5, 6, 7, 8, 9, 10):  # from the last stem digit to the first
        total += (rest % 10) * weight
        rest //= 10
    check = 11 - total % 11
    check[check == 11] = 0
    valid = check != 10
    numbers = stems[valid] * 10 + check[valid]
    return rng.permutation(numbers)[:count]


def _relative_risks(
    pop_age: Array, band: Array, has: Array, efi: Array, z: Array, dep: Array, female: Array, residents: int
) -> tuple[Array, Array, Array]:
    specs = table("conditions")["conditions"]
    admission = np.array([s["admission"] for s in specs])
    frail = np.minimum(efi, 16)
    emergency = 0.45 * z + 0.2 * dep + has @ admission + 0.085 * frail
    contact = 0.3 * z + 0.05 * frail + 0.1 * has.sum(axis=1) + 0.15 * female
    keys = [s["key"] for s in specs]
    mortality_hr = np.array(
        [{"cancer": 0.8, "heart_failure": 0.7, "dementia": 0.8, "copd": 0.5, "ckd": 0.3}.get(k, 0) for k in keys]
    )
    death = 0.4 * z + 0.1 * frail + has @ mortality_hr
    return (
        _normalised(emergency, band, residents),
        _normalised(contact, band, residents),
        _normalised(death, band, residents),
    )


def build_population(config: SynthConfig, borough: Borough) -> Population:
    """Everyone in the place, deterministic for the seed."""
    rng = np.random.default_rng([config.seed, 202])
    residents = config.people
    years_before_index = (config.index_date - config.start).days / 365.25
    decedents = round(table("rates")["deaths_per_person_year"] * residents * years_before_index)
    age, band = _ages(rng, residents, decedents)
    total = residents + decedents
    index_day, start_day = config.index_date.toordinal(), config.start.toordinal()
    # Deaths before the index date, spread evenly over the years so that every year has its share.
    death = np.zeros(total, dtype=np.int64)
    order = rng.permutation(decedents)
    death[residents:] = start_day + (
        (order + rng.random(decedents)) / max(decedents, 1) * (index_day - start_day)
    ).astype(np.int64)
    ref_day = np.where(death > 0, death, index_day)
    birth = ref_day - (age * 365.25).astype(np.int64)
    female = _quota_sex(rng, band, residents)
    area, practice = _places(rng, borough, total)
    group, code, heritage = _ethnicity(rng, borough, area, residents)
    deciles = np.array([borough.areas[a].decile for a in area])
    dep = (5.5 - deciles) / 2.87
    # Decedents were, on the whole, less well: their latent liability is shifted up.
    z = rng.normal(0, 1, total) + np.where(death > 0, 0.8, 0.0)
    has, onset = _conditions(rng, age, band, female, z, dep, residents, ref_day)
    chosen, efi = _deficits(rng, age, z, _linked_deficits(has), residents)
    emergency, contact, death_risk = _relative_risks(age, band, has, efi, z, dep, female, residents)
    return Population(
        residents=residents,
        total=total,
        age=age,
        birth=birth,
        death=death,
        female=female,
        ethnic_group=group,
        ethnic_code=code,
        heritage=heritage,
        area=area,
        practice=practice,
        z=z,
        deprivation=dep,
        conditions=has,
        onset=onset,
        deficits=chosen,
        efi_count=efi,
        emergency_risk=emergency,
        contact_rate=contact,
        death_risk=death_risk,
        nhs_number=_nhs_numbers(rng, total),
    )


def frailty_category(efi_count: int) -> int:
    """0 fit, 1 mild, 2 moderate, 3 severe (0-4, 5-8, 9-12, 13+ of the 36 deficits)."""
    return 0 if efi_count <= 4 else 1 if efi_count <= 8 else 2 if efi_count <= 12 else 3


def ordinal_to_iso(day: int) -> str:
    return date.fromordinal(int(day)).isoformat()
