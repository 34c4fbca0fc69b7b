"""Blocking: which pairs are compared at all. One list of keys, run as Splink rules and as Python look-up keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from .record import LinkageRecord

BlockingKey = tuple[str, ...]

# A pair is compared when it agrees on every column of at least one key.
PREDICTION_KEYS: tuple[BlockingKey, ...] = (
    ("nhs_number",),
    ("birth_date",),
    ("family_metaphone", "given_metaphone"),
    ("postcode", "family_metaphone"),
    ("postcode", "birth_year"),
    ("given_canonical", "family_name", "birth_year"),
    ("postcode", "given_metaphone"),
    ("postcode", "address_key"),
    ("name_key",),
)

# EM runs once per key; each leaves its own columns untrained, so together they train every comparison.
TRAINING_KEYS: tuple[BlockingKey, ...] = (
    ("birth_date",),
    ("family_metaphone", "given_metaphone"),
    ("postcode",),
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
