"""`generate_place`: the borough, its people, their lives and every partner's feeds, streamed person by person."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from .calibration import CalibrationRow, Tally
from .care_selection import CareStatus, select_care
from .chance import person_rng
from .config import SynthConfig
from .feed_writer import FeedWriter
from .geography import Borough, build_borough
from .identity import Identities
from .life import Life, LifeBuilder
from .place_feed import place_resources
from .population import ETHNIC_GROUPS, Population, build_population
from .records import PatientRecords, TruthRow
from .records_care import social_care_record, voluntary_record
from .records_health import acute_record, community_record, gp_record, mental_health_record
from .services_life import add_services
from .tables import table, versions
from .truth import TruthWriter

Progress = Callable[[int, int], None]
GENERATOR_VERSION = 1
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class PlaceSummary:
    out_dir: Path
    people: int  # residents at the index date
    persons: int  # residents and the people who died before the index date
    resources: int
    counts: dict[str, dict[str, int]]
    calibration: list[CalibrationRow]
    seconds: float


class _PersonWriter:
    """Turns one person's life into each source's records."""

    def __init__(
        self,
        config: SynthConfig,
        borough: Borough,
        pop: Population,
        care: CareStatus,
        writer: FeedWriter,
        truth_rows: list[TruthRow],
    ) -> None:
        self.config, self.borough, self.pop, self.care = config, borough, pop, care
        self.identities = Identities(config.seed, borough, pop, config.mess)
        self.records = PatientRecords(config.seed, self.identities, pop.total, writer.write, truth_rows)
        self.write = writer.write
        self.end_day = config.end.toordinal()
        self.keys = [c["key"] for c in table("conditions")["conditions"]]
        groups = table("place")["ethnic_groups"]
        self.ethnic = [[(str(code), str(label)) for code, label in groups[g]["codes"]] for g in ETHNIC_GROUPS]

    def write_person(self, life: Life) -> None:
        pop, person = self.pop, life.person
        home = int(self.care.care_home[person])
        true = self.identities.true(person, home)
        practice = self.borough.practices[int(pop.practice[person])]
        if home >= 0:
            practice = self.borough.practices[self.borough.care_homes[home].practice]
        ethnic = self.ethnic[int(pop.ethnic_group[person])][int(pop.ethnic_code[person])]
        onsets = {key: int(pop.onset[person, i]) for i, key in enumerate(self.keys)}
        death = life.death if life.death and life.death <= self.end_day else 0
        lo = self.config.index_date.toordinal() if life.resident else life.death
        gp = self.records.open("gp", person, true, practice.code, death, ethnic, (practice.code, practice.name))
        gp_record(gp, life, onsets, practice.code, lo, self.write)
        if life.stays or life.ae_only or life.outpatients:
            acute = self.records.open("acute", person, true, practice.code, death if life.died_in_hospital else 0, None)
            acute_record(acute, life, self.write)
        if life.community:
            community_record(
                self.records.open("community", person, true, practice.code, 0, None), life, self.end_day, self.write
            )
        if life.mental_health:
            owner = self.records.open("mentalhealth", person, true, practice.code, 0, None)
            mental_health_record(owner, life, onsets, practice.code, self.end_day, self.write)
        if life.social_care:
            owner = self.records.open("socialcare", person, true, practice.code, 0, ethnic)
            nursing = home >= 0 and self.borough.care_homes[home].nursing
            home_code = self.borough.care_homes[home].code if home >= 0 and not death else None
            social_care_record(owner, life, nursing, self.end_day, self.write, home_code)
        if life.voluntary:
            voluntary_record(
                self.records.open("voluntary", person, true, practice.code, 0, None),
                life,
                practice.code,
                self.end_day,
                self.write,
            )


def generate_place(out_dir: Path, config: SynthConfig, progress: Progress | None = None) -> PlaceSummary:
    """Generate the place into out_dir (replacing feeds/ and truth/ there); deterministic for the config."""
    config.check()
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in ("feeds", "truth"):
        shutil.rmtree(out_dir / old, ignore_errors=True)
    borough = build_borough(config.seed)
    pop = build_population(config, borough)
    care = select_care(config, borough, pop)
    writer = FeedWriter(out_dir / "feeds")
    truth = TruthWriter(out_dir / "truth")
    truth_rows: list[TruthRow] = []
    tally = Tally(config)
    try:
        for resource in place_resources(config.seed, borough):
            writer.write("place", resource)
        lives = LifeBuilder(config, pop, care)
        person_writer = _PersonWriter(config, borough, pop, care, writer, truth_rows)
        for person in range(pop.total):
            life = lives.build(person)
            add_services(person_rng(config.seed + 7_777, person), life, config, pop, care)
            person_writer.write_person(life)
            truth.patients(truth_rows)
            if life.resident:
                truth.resident(person, life.age, life.probability, life.outcome)
            tally.add(life)
            if progress is not None and (person % PROGRESS_EVERY == 0 or person == pop.total - 1):
                progress(person + 1, pop.total)
    finally:
        writer.close()
        truth.close()
    rows = tally.rows(pop, care, borough)
    counts = writer.summary()
    (out_dir / "truth" / "calibration.json").write_bytes(
        orjson.dumps({"people": config.people, "rows": [r.as_dict() for r in rows]}, option=orjson.OPT_INDENT_2)
    )
    total = sum(sum(c.values()) for c in counts.values())
    manifest = {
        "generator": "joinedup synth",
        "generator_version": GENERATOR_VERSION,
        "data_versions": versions(),
        "seed": config.seed,
        "config": config.as_dict(),
        "residents": pop.residents,
        "persons": pop.total,
        "resources": total,
        "counts": counts,
        "layout": {
            "feeds": "feeds/<source>/<ResourceType>.ndjson",
            "truth": ["truth/persons.csv", "truth/risk.csv", "truth/calibration.json"],
        },
    }
    (out_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return PlaceSummary(out_dir, pop.residents, pop.total, total, counts, rows, time.perf_counter() - began)
