"""A small made-up place for linkage tests: people recorded by two sources with the usual disagreements."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, complete

GIVEN = [
    ("william", "bill"),
    ("margaret", "peggy"),
    ("robert", "bob"),
    ("elizabeth", "liz"),
    ("james", "jim"),
    ("catherine", "kate"),
    ("thomas", "tom"),
    ("susan", "sue"),
    ("michael", "mick"),
    ("patricia", "pat"),
    ("richard", "dick"),
    ("jennifer", "jenny"),
    ("edward", "ted"),
    ("samuel", "sam"),
    ("victoria", "vicky"),
    ("anthony", "tony"),
    ("olivia", None),
    ("amara", None),
    ("mohammed", None),
    ("priya", None),
    ("oluwaseun", None),
    ("zainab", None),
    ("aisha", None),
    ("connor", None),
    ("siobhan", None),
    ("grace", None),
    ("noah", None),
    ("leo", None),
    ("freya", None),
    ("isla", None),
    ("arjun", None),
    ("chloe", None),
    ("daniel", "danny"),
]
FAMILY = [
    "smith",
    "jones",
    "taylor",
    "brown",
    "williams",
    "wilson",
    "johnson",
    "davies",
    "patel",
    "khan",
    "robinson",
    "wright",
    "thompson",
    "evans",
    "walker",
    "white",
    "roberts",
    "green",
    "hall",
    "wood",
    "jackson",
    "clarke",
    "okafor",
    "adeyemi",
    "begum",
    "ahmed",
    "hussain",
    "nowak",
    "kowalski",
    "oconnor",
    "murphy",
    "kelly",
    "singh",
    "shah",
    "ali",
    "campbell",
    "stewart",
    "morris",
    "hughes",
    "edwards",
    "mensah",
    "osei",
    "fernandes",
    "silva",
]
STREETS = ["high street", "church road", "station road", "park avenue", "victoria road", "green lane", "mill lane"]


@dataclass(frozen=True)
class Person:
    number: int
    given: str
    nickname: str | None
    family: str
    birth: str
    sex: str
    postcode: str
    line: str
    old_postcode: str
    nhs: str


def _postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"LS{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _nhs(rng: random.Random) -> str:
    while True:
        number = complete(f"{rng.randint(400_000_000, 499_999_999)}")
        if number:
            return number


def make_people(count: int, seed: int = 7) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for number in range(count):
        given, nickname = rng.choice(GIVEN)
        year, month, day = rng.randint(1930, 2015), rng.randint(1, 12), rng.randint(1, 28)
        people.append(
            Person(
                number=number,
                given=given,
                nickname=nickname,
                family=rng.choice(FAMILY),
                birth=f"{year:04d}-{month:02d}-{day:02d}",
                sex=rng.choice(["male", "female"]),
                postcode=_postcode(rng),
                line=f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
                old_postcode=_postcode(rng),
                nhs=_nhs(rng),
            )
        )
    return people


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text))
    return text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + rng.choice("aeiour") + text[i:]


def patient(
    person: Person,
    patient_id: str,
    *,
    given: str | None = None,
    family: str | None = None,
    birth: str | None = None,
    nhs: str | None = None,
    address: list[dict[str, Any]] | None = None,
    sex: str | None = None,
) -> dict[str, Any]:
    """A Patient for the person, with any field overridden."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "name": [
            {"use": "official", "family": (family or person.family).title(), "given": [(given or person.given).title()]}
        ],
        "birthDate": birth or person.birth,
        "gender": sex or person.sex,
        "address": address
        if address is not None
        else [{"use": "home", "line": [person.line.title()], "postalCode": person.postcode}],
    }
    if nhs:
        resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]
    return resource


def moved_address(person: Person) -> list[dict[str, Any]]:
    """The current address plus the one the person left, as a source that knows the history holds them."""
    return [
        {"use": "home", "line": [person.line.title()], "postalCode": person.postcode},
        {"use": "old", "line": ["1 Old Street"], "postalCode": person.old_postcode, "period": {"end": "2019-05-01"}},
    ]


def two_sources(people: list[Person], seed: int = 11) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, int]]:
    """(source, Patient) for a GP record of everyone and a council record of most, with disagreements;
    and the truth: record key → person number."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    truth: dict[str, int] = {}
    for person in people:
        out.append(("gp", patient(person, f"g{person.number}", nhs=person.nhs, address=moved_address(person))))
        truth[f"gp|g{person.number}"] = person.number
        if rng.random() < 0.2:
            continue
        given, family, birth = person.given, person.family, person.birth
        address = [{"use": "home", "line": [person.line], "postalCode": person.postcode}]
        roll = rng.random()
        if roll < 0.15 and person.nickname:
            given = person.nickname
        elif roll < 0.3:
            family = _typo(rng, family)
        elif roll < 0.4:
            given = _typo(rng, given)
        elif roll < 0.45 and int(birth[8:]) <= 12:
            birth = f"{birth[:4]}-{birth[8:]}-{birth[5:7]}"
        elif roll < 0.5:
            birth = f"{birth[:8]}{(int(birth[8:]) % 28) + 1:02d}"
        elif roll < 0.6:
            address = [{"use": "home", "line": ["1 Old Street"], "postalCode": person.old_postcode}]
        nhs = person.nhs if rng.random() < 0.3 else None
        council = patient(
            person, f"c{person.number}", given=given, family=family, birth=birth, nhs=nhs, address=address
        )
        out.append(("council", council))
        truth[f"council|c{person.number}"] = person.number
    return out, truth
