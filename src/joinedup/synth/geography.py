"""The borough itself: neighbourhoods, small areas with deprivation deciles, streets and postcodes, GP practices
and care homes. Fixed in number whatever the population size, so a small place is a sample of the same borough."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tables import table


@dataclass(frozen=True, slots=True)
class SmallArea:
    index: int
    code: str  # an LSOA-like code
    neighbourhood: int
    decile: int  # 1 = most deprived tenth of England
    streets: tuple[str, ...]
    district: str  # postcode district, e.g. ZS3


@dataclass(frozen=True, slots=True)
class Practice:
    index: int
    code: str  # ODS-like
    name: str
    neighbourhood: int
    weight: float  # share of its neighbourhood's residents registered here
    street: str
    postcode: str


@dataclass(frozen=True, slots=True)
class CareHome:
    index: int
    code: str
    name: str
    neighbourhood: int
    practice: int  # the GP practice aligned to the home
    beds: int  # at full borough size
    nursing: bool
    street: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Borough:
    name: str
    neighbourhoods: tuple[str, ...]
    areas: tuple[SmallArea, ...]
    practices: tuple[Practice, ...]
    care_homes: tuple[CareHome, ...]


def _postcode(rng: np.random.Generator, district: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code
    return f"{district} {rng.integers(1, 10)}{letters[rng.integers(len(letters))]}{letters[rng.integers(len(letters))]}"


def _areas(rng: np.random.Generator) -> tuple[SmallArea, ...]:
    spec = table("place")
    hoods = spec["neighbourhoods"]
    shares = np.array([h["share"] for h in hoods])
    count = int(spec["small_areas"])
    per_hood = np.maximum(1, np.round(shares / shares.sum() * count)).astype(int)
    hood_of_area = np.repeat(np.arange(len(hoods)), per_hood)
    # Deciles by rank of a latent deprivation, so the decile mix is exactly the stated one and each
    # neighbourhood keeps its character (a city of contrasts: a few wealthy areas beside very deprived ones).
    latent = np.array([hoods[h]["deprivation"] for h in hood_of_area]) + rng.normal(0, 0.8, len(hood_of_area))
    counts = np.round(np.array(spec["deprivation_decile_shares"]) * len(hood_of_area)).astype(int)
    counts[-1] = len(hood_of_area) - counts[:-1].sum()
    deciles = np.empty(len(hood_of_area), dtype=int)
    deciles[np.argsort(latent, kind="stable")] = np.repeat(np.arange(1, 11), counts)
    words, kinds = spec["street_words"], spec["street_kinds"]
    areas = []
    for index, hood in enumerate(hood_of_area):
        streets = tuple(
            f"{words[rng.integers(len(words))]} {kinds[rng.integers(len(kinds))]}" for _ in range(rng.integers(3, 7))
        )
        areas.append(SmallArea(index, f"Z0{index + 1:05d}", int(hood), int(deciles[index]), streets, f"ZS{hood + 1}"))
    return tuple(areas)


def _practices(rng: np.random.Generator, areas: tuple[SmallArea, ...]) -> tuple[Practice, ...]:
    spec = table("place")
    hoods = spec["neighbourhoods"]
    shares = np.array([h["share"] for h in hoods])
    per_hood = np.round(shares / shares.sum() * spec["gp_practices"]).astype(int)
    practices: list[Practice] = []
    surnames = ["Brindley", "Ashworth", "Kenyon", "Peel", "Lowry", "Heywood", "Pendleton", "Crompton"]
    for hood, count in enumerate(per_hood):
        # List sizes from 2,000 to 15,000 at full size: weights within the neighbourhood, clipped.
        weights = np.clip(rng.lognormal(0.0, 0.5, count), 0.45, 2.4)
        weights = weights / weights.sum()
        hood_areas = [a for a in areas if a.neighbourhood == hood]
        for weight in weights:
            number = len(practices) + 1
            area = hood_areas[rng.integers(len(hood_areas))]
            kind = ["Medical Centre", "Health Centre", "Surgery", "Family Practice"][rng.integers(4)]
            name = f"{hoods[hood]['name']} {kind}" if number % 3 else f"Dr {surnames[number % 8]} and Partners"
            practices.append(
                Practice(
                    number - 1,
                    f"Z81{number:03d}",
                    name,
                    hood,
                    float(weight),
                    area.streets[0],
                    _postcode(rng, area.district),
                )
            )
    return tuple(practices)


def _care_homes(
    rng: np.random.Generator, areas: tuple[SmallArea, ...], practices: tuple[Practice, ...]
) -> tuple[CareHome, ...]:
    spec = table("place")
    count = int(spec["care_homes"])
    beds = rng.integers(12, 60, count).astype(float)
    beds = np.round(beds / beds.sum() * spec["care_home_beds"]).astype(int)
    names = ["House", "Lodge", "Court", "Grange", "Manor", "View", "Gardens", "Hall"]
    homes = []
    for index in range(count):
        area = areas[rng.integers(len(areas))]
        local = [p for p in practices if p.neighbourhood == area.neighbourhood]
        practice = local[rng.integers(len(local))]
        street = area.streets[rng.integers(len(area.streets))]
        name = f"{street.split()[0]} {names[index % len(names)]}"
        homes.append(
            CareHome(
                index,
                f"ZCH{index + 1:02d}",
                name,
                area.neighbourhood,
                practice.index,
                int(beds[index]),
                bool(rng.random() < 0.4),
                street,
                _postcode(rng, area.district),
            )
        )
    return tuple(homes)


def build_borough(seed: int) -> Borough:
    """The same borough for a seed whatever the population size."""
    rng = np.random.default_rng([seed, 101])
    areas = _areas(rng)
    practices = _practices(rng, areas)
    homes = _care_homes(rng, areas, practices)
    spec = table("place")
    return Borough(spec["borough"], tuple(h["name"] for h in spec["neighbourhoods"]), areas, practices, homes)
