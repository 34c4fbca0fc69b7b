"""`generate_place`: the borough, its people, their lives and every partner's feeds, streamed person by person."""

from __future__ import annotations

import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from .calibration import CalibrationRow, Tally
from .care_directory import Directory, build_directory
from .care_mdg import Neighbourhood, mdg_groups, mdg_records
from .care_selection import CareStatus, select_care
from .care_work import CareWork, Need, moment
from .chance import person_rng
from .config import SynthConfig
from .feed_writer import FeedWriter
from .fhir_build import Resource, meta, organisation, ref
from .geography import Borough, build_borough
from .identity import Identities
from .life import Life, LifeBuilder, frailty_of
from .place_feed import place_resources
from .population import ETHNIC_GROUPS, Population, build_population
from .records import PatientRecords, SourcePerson, TruthRow
from .records_care import social_care_record, voluntary_record
from .records_health import acute_record, community_record, gp_record, mental_health_record
from .services_life import add_services
from .tables import table, versions
from .truth import TruthWriter

Progress = Callable[[int, int], None]
GENERATOR_VERSION = 2
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
        directory: Directory,
    ) -> None:
        self.config, self.borough, self.pop, self.care = config, borough, pop, care
        self.identities = Identities(config.seed, borough, pop, config.mess)
        self.records = PatientRecords(config.seed, self.identities, pop.total, writer.write, truth_rows)
        self.write = self._managed(writer.write, directory)
        self.end_day = config.end.toordinal()
        self.keys = [c["key"] for c in table("conditions")["conditions"]]
        groups = table("place")["ethnic_groups"]
        self.ethnic = [[(str(code), str(label)) for code, label in groups[g]["codes"]] for g in ETHNIC_GROUPS]
        self.work_day = config.work_day.toordinal()
        self.work = CareWork(config.seed, directory, moment(self.work_day), writer.write)
        self.hoods = [Neighbourhood() for _ in borough.neighbourhoods]
        self.case_finding = int(table("care_work")["mdg"]["case_finding"])

    @staticmethod
    def _managed(write: Callable[[str, Resource], None], directory: Directory) -> Callable[[str, Resource], None]:
        """The feeds' writer, giving each open mental health and social care episode of the clinical history a care
        manager from the organisation's main team (a care coordinator, a social worker reviewing the package), so
        those services are somebody's caseload rather than a team's unallocated work (decision 0506)."""
        teams = {"mentalhealth": directory.by_key("mentalhealth", "cmht"),
                 "socialcare": directory.by_key("socialcare", "assessment")}  # fmt: skip

        def write_managed(source: str, resource: Resource) -> None:
            team = teams.get(source)
            if team and resource["resourceType"] == "EpisodeOfCare" and resource["status"] == "active":
                number = zlib.crc32(str(resource["id"]).encode())
                resource["careManager"] = ref("PractitionerRole", team.members[number % len(team.members)])
            write(source, resource)

        return write_managed

    def write_person(self, life: Life) -> None:
        pop, person = self.pop, life.person
        if self.config.work_only and not life.resident:
            return  # a benchmark place holds its residents and their work only
        home = int(self.care.care_home[person])
        true = self.identities.true(person, home)
        practice = self.borough.practices[int(pop.practice[person])]
        if home >= 0:
            practice = self.borough.practices[self.borough.care_homes[home].practice]
        ethnic = self.ethnic[int(pop.ethnic_group[person])][int(pop.ethnic_code[person])]
        death = life.death if life.death and life.death <= self.end_day else 0
        holders: dict[str, SourcePerson] = {}

        def holder(source: str) -> SourcePerson:
            """The source's record of the person, opened (its Patient written) the first time it is needed."""
            if source not in holders:
                if source == "gp":
                    org = (practice.code, practice.name)
                    holders[source] = self.records.open(source, person, true, practice.code, death, ethnic, org)
                else:
                    dies = death if source == "acute" and life.died_in_hospital else 0
                    race = ethnic if source == "socialcare" else None
                    holders[source] = self.records.open(source, person, true, practice.code, dies, race)
            return holders[source]

        holder("gp")
        if not self.config.work_only:
            self._clinical(life, holder, practice.code, home, death)
        if life.resident and (not life.death or life.death > self.work_day):
            self._care_work(life, holder, practice.code, practice.neighbourhood, home)

    def _clinical(
        self, life: Life, holder: Callable[[str], SourcePerson], practice: str, home: int, death: int
    ) -> None:
        pop, person = self.pop, life.person
        onsets = {key: int(pop.onset[person, i]) for i, key in enumerate(self.keys)}
        lo = self.config.index_date.toordinal() if life.resident else life.death
        gp_record(holder("gp"), life, onsets, practice, lo, self.write)
        if life.stays or life.ae_only or life.outpatients:
            acute_record(holder("acute"), life, self.write)
        if life.community:
            community_record(holder("community"), life, self.end_day, self.write)
        if life.mental_health:
            mental_health_record(holder("mentalhealth"), life, onsets, practice, self.end_day, self.write)
        if life.social_care:
            nursing = home >= 0 and self.borough.care_homes[home].nursing
            home_code = self.borough.care_homes[home].code if home >= 0 and not death else None
            social_care_record(holder("socialcare"), life, nursing, self.end_day, self.write, home_code)
        if life.voluntary:
            voluntary_record(holder("voluntary"), life, practice, self.end_day, self.write)

    def _care_work(
        self, life: Life, holder: Callable[[str], SourcePerson], practice: str, hood: int, home: int
    ) -> None:
        pop, care, person = self.pop, self.care, life.person
        age = life.age + (self.work_day - self.config.index_date.toordinal()) / 365.25
        need = Need(
            age=age,
            frailty=frailty_of(pop, person),
            conditions=life.conditions,
            deficits=life.deficits,
            home_care=bool(care.home_care_since[person]),
            telecare=bool(care.telecare_since[person]),
            carer=bool(care.carer[person]),
            care_home=self.borough.care_homes[home].code if home >= 0 else None,
            care_home_since=int(care.care_home_since[person]),
            practice_code=practice,
            admitted_lately=any(0 <= self.work_day - s.start <= 365 for s in life.stays),
        )
        done = self.work.person(person, need, holder)
        patient_id = holder("gp").patient_ids[0]
        if age >= 65:
            self.hoods[hood].offer(need.score, person, patient_id, self.case_finding)
        if done.open_referral and len(self.hoods[hood].referred) < 50:
            self.hoods[hood].referred.append(patient_id)


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
    directory = build_directory(config.seed, borough, config.people)
    try:
        for resource in place_resources(config.seed, borough, directory):
            writer.write("place", resource)
        lives = LifeBuilder(config, pop, care)
        person_writer = _PersonWriter(config, borough, pop, care, writer, truth_rows, directory)
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
        place_meta = meta("place", *organisation("place"))
        for group in mdg_groups(directory, borough, place_meta):
            writer.write("place", group)
        mdg_records(
            config.seed, directory, borough, person_writer.hoods, moment(config.work_day.toordinal()), writer.write
        )
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
