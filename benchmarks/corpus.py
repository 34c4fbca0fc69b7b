"""A large body of FHIR data for the store benchmarks, written as bulk ndjson.

The synthetic place (`joinedup synth`) is the source when it is installed; its feeds are used as they are. The
serving benchmark needs at least a million resources, so the place is generated at the size that gives that.
"""

from __future__ import annotations

import json
from pathlib import Path


def place_feeds(folder: Path, people: int, seed: int = 7) -> Path:
    """Generate (once) a synthetic place of `people` residents; returns its feeds folder."""
    from joinedup.synth.command import SynthConfig, generate_place

    manifest = folder / "manifest.json"
    if not manifest.is_file() or json.loads(manifest.read_text()).get("config", {}).get("people") != people:
        generate_place(folder, SynthConfig(people=people, seed=seed))
    return folder / "feeds"


def count_lines(feeds: Path) -> int:
    total = 0
    for path in feeds.rglob("*.ndjson"):
        with path.open("rb") as handle:
            total += sum(1 for line in handle if line.strip())
    return total


TASK_STATUSES = ("requested", "accepted", "in-progress", "on-hold", "completed", "cancelled")


def _ids(feeds: Path, resource_type: str, limit: int) -> list[str]:
    ids: list[str] = []
    for path in sorted(feeds.rglob(f"{resource_type}.ndjson")):
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    ids.append(json.loads(line)["id"])
                    if len(ids) >= limit:
                        return ids
    return ids


def write_tasks(feeds: Path, count: int, seed: int = 3) -> Path:
    """Tasks between partners (the place's feeds carry none yet): owners spread over the place's organisations."""
    import random

    rng = random.Random(seed)
    patients = _ids(feeds, "Patient", 50_000)
    organisations = _ids(feeds, "Organization", 10_000)
    folder = feeds / "tasks"
    folder.mkdir(exist_ok=True)
    path = folder / "Task.ndjson"
    with path.open("w") as handle:
        for number in range(count):
            task = {
                "resourceType": "Task",
                "id": f"bench-task-{number}",
                "status": rng.choice(TASK_STATUSES),
                "intent": "order",
                "for": {"reference": f"Patient/{rng.choice(patients)}"},
                "owner": {"reference": f"Organization/{rng.choice(organisations)}"},
                "authoredOn": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            }
            handle.write(json.dumps(task) + "\n")
    return path
