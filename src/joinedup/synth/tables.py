"""The versioned data files the generator is built from (data/*.json): codes, targets, rates, names, the place."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

DATA_FILES = (
    "place",
    "names",
    "conditions",
    "deficits",
    "medicines",
    "hospital",
    "services",
    "rates",
    "calibration",
    "care_work",
)


@cache
def table(name: str) -> dict[str, Any]:
    """One data file, parsed once: `table("conditions")["conditions"]`."""
    if name not in DATA_FILES:
        raise KeyError(f"no synth data file called {name!r}")
    text = resources.files("joinedup.synth").joinpath("data").joinpath(f"{name}.json").read_bytes()
    loaded: dict[str, Any] = orjson.loads(text)
    return loaded


def versions() -> dict[str, int]:
    """The version of every data file, for the manifest: a changed table changes the place."""
    return {name: int(table(name).get("version", 0)) for name in DATA_FILES}


def step_value(steps: list[list[float]], age: float) -> float:
    """The value of an age-step table ([[from_age, value], ...], ascending) at an age."""
    value = steps[0][1]
    for start, step in steps:
        if age >= start:
            value = step
        else:
            break
    return float(value)


def step_values(steps: list[list[float]], ages: Any) -> Any:
    """`step_value` for a numpy array of ages at once."""
    import numpy as np

    starts = np.array([s[0] for s in steps], dtype=float)
    values = np.array([s[1] for s in steps], dtype=float)
    return values[np.maximum(np.searchsorted(starts, ages, side="right") - 1, 0)]
