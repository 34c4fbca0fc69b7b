"""Blocking: which pairs are compared at all. One list of keys, run as Splink rules and as Python look-up keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from .record import LinkageRecord

BlockingKey = tuple[str, ...]

# A pair is compared when it agrees on every column of at least one key. Each key is narrow enough that its
# largest blocks stay small on a borough (576,186 records: about 14 million pairs in all, where a key on the two
# names' Metaphone codes alone made 39 million and one on the sorted names 30 million); see
# docs/benchmarks-identity.md for the pairs each key makes and the true pairs only it finds.
PREDICTION_KEYS: tuple[BlockingKey, ...] = (
    ("nhs_number",),
    ("birth_date",),  # moved, and a misspelt name
    ("postcode", "birth_year"),  # a date of birth mistyped or swapped, no NHS number
    ("postcode", "family_metaphone", "given_metaphone"),  # a wrong year of birth at the same address
    ("family_metaphone", "given_metaphone", "birth_year"),  # moved and a mistyped date of birth
    ("name_key", "birth_year"),  # given and family names swapped
)

# A small place can afford wide keys, and needs them where no NHS number carries the match (FEBRL 4: typos in
# dates, postcodes and names at once). Their pairs grow with the square of a block, so past this many records
# (a borough has 576,186) only the narrow keys are used; the keys chosen are saved with the model.
WIDE_BLOCKING_LIMIT = 100_000
WIDE_PREDICTION_KEYS: tuple[BlockingKey, ...] = (
    *PREDICTION_KEYS,
    ("family_metaphone", "given_metaphone"),
    ("name_key",),
    ("postcode", "family_metaphone"),
    ("postcode", "given_metaphone"),
    ("postcode", "address_key"),
)


def prediction_keys_for(record_count: int) -> tuple[BlockingKey, ...]:
    """The blocking keys for a place of this many records."""
    return WIDE_PREDICTION_KEYS if record_count <= WIDE_BLOCKING_LIMIT else PREDICTION_KEYS


# EM runs once per key; each leaves its own columns untrained, so together they train every comparison. Keys
# stay narrow for the same reason as above: EM's cost is the pairs it scores.
TRAINING_KEYS: tuple[BlockingKey, ...] = (
    ("birth_date",),
    ("family_metaphone", "given_metaphone"),
    ("postcode", "given_metaphone"),
)


def splink_rules(keys: Sequence[BlockingKey]) -> list[BlockingRuleCreator | dict[str, Any]]:
    return [block_on(*key) for key in keys]


def key_value(key: BlockingKey, record: LinkageRecord) -> tuple[str, ...] | None:
    """The record's value for a key, or None when any column is missing (as in SQL, nulls never block together)."""
    values: list[str] = []
    for column in key:
        value = getattr(record, column)
        if value is None:
            return None
        values.append(str(value))
    return tuple(values)
