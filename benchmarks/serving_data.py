"""URL lists for the serving scenarios, drawn from what is actually in the store."""

from __future__ import annotations

import random
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, func, select

from joinedup.store.schema import idx_reference, idx_token, resources


@dataclass
class ScenarioUrls:
    reads: list[str]
    conditions_by_code: list[str]
    encounters_by_date: list[str]
    tasks_by_owner_status: list[str]
    everything: list[str]
    everything_sizes: list[int]


def _sample(engine: Engine, resource_type: str, size: int, seed: int) -> list[str]:
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(resources).where(resources.c.resource_type == resource_type)
        ).scalar_one()
        step = max(1, total // size)
        rows = (
            conn.execute(
                select(resources.c.id)
                .where(resources.c.resource_type == resource_type)
                .order_by(resources.c.pk)
                .limit(size * step)
            )
            .scalars()
            .all()
        )
    ids = list(rows[::step])
    random.Random(seed).shuffle(ids)
    return ids[:size]


def build(engine: Engine, size: int = 2000, everything_target: int = 300) -> ScenarioUrls:
    reads = []
    for resource_type in ("Patient", "Condition", "Observation", "Encounter", "MedicationRequest"):
        reads += [f"/fhir/{resource_type}/{i}" for i in _sample(engine, resource_type, size // 5, 1)]
    with engine.connect() as conn:
        pairs = conn.execute(
            select(idx_reference.c.target_id, idx_token.c.system, idx_token.c.code)
            .select_from(idx_reference.join(idx_token, idx_token.c.resource_pk == idx_reference.c.resource_pk))
            .where(
                idx_reference.c.resource_type == "Condition",
                idx_reference.c.param == "subject",
                idx_token.c.param == "code",
            )
            .limit(size)
        ).all()
        days = (
            conn.execute(
                select(resources.c.content)
                .where(resources.c.resource_type == "Encounter")
                .order_by(resources.c.pk)
                .limit(size)
            )
            .scalars()
            .all()
        )
        tasks = conn.execute(
            select(idx_reference.c.target_type, idx_reference.c.target_id, idx_token.c.code)
            .distinct()
            .select_from(idx_reference.join(idx_token, idx_token.c.resource_pk == idx_reference.c.resource_pk))
            .where(
                idx_reference.c.resource_type == "Task", idx_reference.c.param == "owner", idx_token.c.param == "status"
            )
        ).all()
        sizes = conn.execute(
            select(idx_reference.c.target_id, func.count().label("n"))
            .where(idx_reference.c.target_type == "Patient")
            .group_by(idx_reference.c.target_id)
        ).all()
    conditions = [f"/fhir/Condition?subject=Patient/{p.target_id}&code={p.system}|{p.code}" for p in pairs]
    encounter_days = sorted({orjson.loads(c).get("period", {}).get("start", "")[:10] for c in days} - {""})
    encounters = [f"/fhir/Encounter?date=ge{d}&date=le{d}&_count=20" for d in encounter_days]
    task_urls = [f"/fhir/Task?owner={t.target_type}/{t.target_id}&status={t.code}" for t in tasks]
    near = sorted(sizes, key=lambda r: abs(r.n - everything_target))[:200]
    everything = [f"/fhir/Patient/{r.target_id}/$everything?_count=500" for r in near]
    return ScenarioUrls(reads, conditions, encounters, task_urls, everything, [r.n for r in near])
