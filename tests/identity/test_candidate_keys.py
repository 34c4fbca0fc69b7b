"""The person index's own blocking table: candidates for an arriving record without one store search per key."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from joinedup.identity import candidate_keys
from joinedup.identity.arrivals import ArrivalLinker
from joinedup.identity.batch_service import BatchLinker
from joinedup.identity.candidate_keys import CandidateKeys, default_path
from joinedup.identity.command import link_after_load
from joinedup.identity.decisions import Method, Outcome
from joinedup.identity.features import patient_to_record
from joinedup.identity.index_store import linkage_record
from joinedup.identity.model import LinkageModel
from joinedup.settings import Settings
from joinedup.store.fhir_store import FhirStore

from .people import Person, patient
from .store_place import sourced, tiny_place


def test_records_sharing_a_blocking_key_are_candidates_and_nothing_is_kept_in_clear(
    people: list[Person], tmp_path: Path
) -> None:
    one, other = people[0], next(p for p in people[1:] if p.postcode != people[0].postcode)
    stored = [
        patient_to_record(patient(one, "same-dob", nhs=one.nhs), "gp"),
        patient_to_record(patient(other, "unrelated", nhs=other.nhs), "gp"),
    ]
    keys = CandidateKeys(tmp_path / "keys")
    assert keys.tag() is None
    assert keys.rebuild(stored, "model-1") > 0
    assert keys.tag() == "model-1"

    arriving = patient_to_record(patient(one, "arriving", given="Someone", family="Else"), "council")
    assert keys.candidates(arriving) == ["same-dob"]  # the birth date key; never the record itself
    keys.add(arriving)
    twin = patient_to_record(patient(one, "twin", given="Someone", family="Else"), "acute")
    assert sorted(keys.candidates(twin)) == ["arriving", "same-dob"]
    assert one.family.encode() not in (tmp_path / "keys").read_bytes()

    keys.rebuild(stored[1:], "model-2")
    assert keys.candidates(twin) == [] and keys.tag() == "model-2"


def test_a_sqlite_store_keeps_its_table_beside_its_file(tmp_path: Path) -> None:
    assert default_path(f"sqlite:///{tmp_path}/a.sqlite3") == tmp_path / "a.sqlite3.person-index-keys"
    elsewhere = default_path("postgresql+psycopg://u:secret@h/db", tmp_path)
    assert elsewhere.parent == tmp_path and "secret" not in elsewhere.name


def test_after_a_batch_run_arrivals_find_candidates_in_the_table(
    store: FhirStore, model: LinkageModel, people: list[Person]
) -> None:
    place = tiny_place(store, model, people)
    BatchLinker(place.index).run()
    keys = place.index.candidate_keys(model)
    assert keys.tag() == place.index.model_stamp()

    linker = ArrivalLinker(place.index)
    nickname = next(p for p in people[1:] if p.nickname)
    arriving = sourced("voluntary", patient(nickname, "v-prob", given=nickname.nickname))
    place.put("voluntary", arriving)
    record = linkage_record(arriving)
    assert linker.scorer() is not None
    assert {c.patient_id for c in linker.candidates(record, arriving)} >= {"g-prob", "c-prob"}

    placed = linker.place(arriving)
    assert placed is not None and (placed.outcome, placed.method) == (Outcome.LINK, Method.PROBABILISTIC)
    assert place.person_of("v-prob").id == place.person_of("g-prob").id
    assert "v-prob" in keys.candidates(linkage_record(patient(nickname, "later", given=nickname.nickname)))


def test_a_table_from_another_model_is_not_used(store: FhirStore, model: LinkageModel, people: list[Person]) -> None:
    place = tiny_place(store, model, people)
    BatchLinker(place.index).run()
    place.index.candidate_keys(model).rebuild([], "another model")
    linker = ArrivalLinker(place.index)
    nickname = next(p for p in people[1:] if p.nickname)
    arriving = sourced("voluntary", patient(nickname, "v-prob", given=nickname.nickname))
    place.put("voluntary", arriving)
    assert linker.scorer() is not None
    # The store's searches still find the candidates the empty table does not know.
    assert {c.patient_id for c in linker.candidates(linkage_record(arriving), arriving)} >= {"g-prob", "c-prob"}


def test_a_load_after_the_batch_places_the_new_records(
    store: FhirStore, settings: Settings, model: LinkageModel, people: list[Person]
) -> None:
    """`joinedup load` ends by placing what it brought (the path whose stored-model check once failed)."""
    place = tiny_place(store, model, people)
    BatchLinker(place.index).run()
    nickname = next(p for p in people[1:] if p.nickname)
    place.put("voluntary", patient(nickname, "v-loaded", given=nickname.nickname))
    output = io.StringIO()
    link_after_load(settings, Console(file=output))
    assert "placed 1 newly loaded records" in output.getvalue()
    assert place.person_of("v-loaded").id == place.person_of("g-prob").id


def test_when_there_are_too_many_the_records_sharing_most_keys_come_first(
    people: list[Person], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = people[0]
    other = next(p for p in people[1:] if p.postcode != one.postcode and p.family != one.family)
    stored = [
        patient_to_record(patient(other, "birth-date-only", birth=one.birth), "gp"),  # shares the birth date
        patient_to_record(patient(one, "same-person", nhs=one.nhs), "acute"),  # shares almost every key
    ]
    keys = CandidateKeys(tmp_path / "keys")
    keys.rebuild(stored, "model")
    arriving = patient_to_record(patient(one, "arriving"), "council")
    assert sorted(keys.candidates(arriving)) == ["birth-date-only", "same-person"]
    monkeypatch.setattr(candidate_keys, "MAX_CANDIDATES", 1)
    assert keys.candidates(arriving) == ["same-person"]
