"""Time `joinedup synth` for the full borough (239,000 residents) beside a floor, and print a markdown fragment.

The floor writes the same number of resources as one fixed small Encounter each, serialised with orjson to the
same number of ndjson files: what streaming the output costs before any person is simulated. Run:
`.venv/bin/python -m benchmarks.bench_synth [--people 239000] [--work var/bench/synth]`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import orjson

from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_place

REPO = Path(__file__).resolve().parents[1]


def _peak_memory_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor(folder: Path, resources: int, files: int) -> float:
    """Seconds to serialise and write `resources` fixed Encounters over `files` ndjson files."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = {
        "resourceType": "Encounter",
        "id": "floor-enc-0000000-1",
        "meta": {"source": "https://joinedup.example/source/floor"},
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/floor-pat-0000000"},
        "period": {"start": "2024-01-01", "end": "2024-01-01"},
    }
    handles = [(folder / f"{n}.ndjson").open("wb", buffering=1 << 20) for n in range(files)]
    began = time.perf_counter()
    for number in range(resources):
        sample["id"] = f"floor-enc-{number:07d}-1"
        handle = handles[number % files]
        handle.write(orjson.dumps(sample))
        handle.write(b"\n")
    for handle in handles:
        handle.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=239_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench" / "synth")
    arguments = parser.parse_args()
    place = arguments.work / f"place-{arguments.people}"
    summary = generate_place(place, SynthConfig(people=arguments.people, seed=arguments.seed))
    files = sum(len(types) for types in summary.counts.values())
    size = sum(p.stat().st_size for p in (place / "feeds").rglob("*.ndjson"))
    floor_seconds = floor(arguments.work / "floor", summary.resources, files)
    shutil.rmtree(arguments.work / "floor", ignore_errors=True)
    met = sum(1 for row in summary.calibration if row.within())
    judged = sum(1 for row in summary.calibration if row.within() is not None)
    print("| measure | synthetic place | floor (fixed resource, orjson, same count) |")
    print("|---|---:|---:|")
    print(f"| residents | {summary.people:,} | |")
    print(f"| resources written | {summary.resources:,} | {summary.resources:,} |")
    print(f"| feed size | {size / 1e9:.2f} GB | |")
    print(f"| seconds | {summary.seconds:.0f} | {floor_seconds:.0f} |")
    print(
        f"| resources per second | {summary.resources / summary.seconds:,.0f} "
        f"| {summary.resources / floor_seconds:,.0f} |"
    )
    print(f"| peak memory | {_peak_memory_mib():,.0f} MiB | |")
    print(f"| calibration targets met | {met} of {judged} | |")


if __name__ == "__main__":
    main()
