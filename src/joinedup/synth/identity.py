"""Who each person is to each partner: names, addresses, NHS numbers and local record numbers, with the mess of
real feeds (misspellings, nicknames, swapped day and month, an old address, a second record, a wrong or missing
NHS number). The GP system holds the traced demographics; every other source gets its own, messier, copy."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date

from .config import MessRates
from .geography import Borough
from .population import HERITAGES, Population
from .tables import table

MESSY_SOURCES = ("acute", "community", "mentalhealth", "socialcare", "voluntary")
NHS_OPTIONAL_SOURCES = ("socialcare", "voluntary")


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Demographics:
    given: str
    family: str
    female: bool
    birth: date
    address: Address
    nhs_number: str | None
    flags: tuple[str, ...] = field(default=())  # the kinds of mess applied, for the ground truth


def _next_prime(value: int) -> int:
    candidate = value | 1
    while any(candidate % d == 0 for d in range(3, int(candidate**0.5) + 1, 2)):
        candidate += 2
    return candidate


class RecordNumbers:
    """A source's local record numbers: a different pseudo-random order per source, so ids never line up."""

    def __init__(self, seed: int, source: str, total: int) -> None:
        rng = random.Random(f"{seed}:{source}:numbers")
        self.modulus = _next_prime(2 * total + 11)
        self.step = rng.randrange(1, self.modulus)
        self.offset = rng.randrange(0, self.modulus)

    def number(self, person: int, copy: int = 0) -> int:
        return (self.step * (2 * person + copy) + self.offset) % self.modulus


def _misspell(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name + name[-1]
    at = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # transposed letters
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if kind == 1:  # a dropped letter
        return name[:at] + name[at + 1 :]
    return name[:at] + name[at] + name[at:]  # a doubled letter


class Identities:
    """Each person's true demographics and each source's version of them."""

    def __init__(self, seed: int, borough: Borough, pop: Population, mess: MessRates) -> None:
        self.seed, self.borough, self.pop, self.mess = seed, borough, pop, mess
        self.names = table("names")

    def true(self, person: int, care_home: int) -> Demographics:
        pop = self.pop
        rng = random.Random(f"{self.seed}:{person}:identity")
        heritage = HERITAGES[int(pop.heritage[person])]
        female = bool(pop.female[person])
        given = rng.choice(self.names["given"][heritage]["female" if female else "male"])
        family = rng.choice(self.names["family"][heritage])
        return Demographics(
            given,
            family,
            female,
            date.fromordinal(int(pop.birth[person])),
            self._address(rng, person, care_home),
            f"{int(pop.nhs_number[person]):010d}",
        )

    def _address(self, rng: random.Random, person: int, care_home: int) -> Address:
        if care_home >= 0:
            home = self.borough.care_homes[care_home]
            return Address(f"{home.name}, {home.street}", home.postcode)
        area = self.borough.areas[int(self.pop.area[person])]
        street = rng.choice(area.streets)
        unit = sum(map(ord, street)) % 9 + 1
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{area.district} {unit}{letters[len(street) % 20]}{letters[(len(street) * 7 + unit) % 20]}"
        return Address(f"{rng.randint(1, 180)} {street}", postcode)

    def for_source(self, person: int, source: str, true: Demographics, copy: int) -> Demographics:
        """The demographics a source holds: the truth for the GP system, with the mess for the others."""
        if source not in MESSY_SOURCES:
            return true
        rng = random.Random(f"{self.seed}:{person}:{source}:{copy}")
        mess, flags = self.mess, list[str]()
        result = true
        nicknames = self.names["nicknames"].get(true.given)
        if nicknames and rng.random() < mess.nickname:
            result, flags = replace(result, given=rng.choice(nicknames)), [*flags, "nickname"]
        if rng.random() < mess.misspelling:
            if rng.random() < 0.6:
                result = replace(result, family=_misspell(rng, result.family))
            else:
                result = replace(result, given=_misspell(rng, result.given))
            flags.append("misspelling")
        birth = true.birth
        if birth.day <= 12 and birth.day != birth.month and rng.random() < mess.dob_swap:
            result, flags = replace(result, birth=birth.replace(month=birth.day, day=birth.month)), [*flags, "dob-swap"]
        if rng.random() < mess.moved_address:
            area = self.borough.areas[int(self.pop.area[person])]
            street = rng.choice(area.streets)
            old = Address(f"{rng.randint(1, 180)} {street}", true.address.postcode)
            result, flags = replace(result, address=old), [*flags, "moved-address"]
        if source in NHS_OPTIONAL_SOURCES and rng.random() < mess.no_nhs_number:
            result, flags = replace(result, nhs_number=None), [*flags, "no-nhs-number"]
        elif rng.random() < mess.wrong_nhs_number:
            # Another resident's (valid) number: the store accepts it; only linkage can catch it.
            other = rng.randrange(self.pop.total)
            if other != person:
                result = replace(result, nhs_number=f"{int(self.pop.nhs_number[other]):010d}")
                flags.append("wrong-nhs-number")
        if copy:
            flags.append("duplicate")
        return replace(result, flags=tuple(flags))

    def has_duplicate(self, person: int, source: str) -> bool:
        if source not in MESSY_SOURCES:
            return False
        return random.Random(f"{self.seed}:{person}:{source}:dup").random() < self.mess.duplicate
