from __future__ import annotations

import csv

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.synth.generate import PlaceSummary

from .conftest import SMALL, resources


def test_the_ground_truth_covers_every_source_patient(small_place: PlaceSummary) -> None:
    with (small_place.out_dir / "truth" / "persons.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    truth = {(r["source"], r["patient_id"]): r["person_id"] for r in rows}
    patients = {(feed, r["id"]) for feed, r in resources(small_place.out_dir) if r["resourceType"] == "Patient"}
    assert set(truth) == patients
    gp_people = {truth[key] for key in patients if key[0] == "gp"}
    assert set(truth.values()) == gp_people  # everyone is registered with a GP practice
    assert len(gp_people) == small_place.persons


def test_a_wrong_nhs_number_is_another_persons_valid_number(small_place: PlaceSummary) -> None:
    with (small_place.out_dir / "truth" / "persons.csv").open() as handle:
        rows = {r["patient_id"]: r for r in csv.DictReader(handle)}
    gp_number = {}
    numbers = {}
    for feed, resource in resources(small_place.out_dir):
        if resource["resourceType"] == "Patient":
            value = next((i["value"] for i in resource["identifier"] if i["system"] == NHS_NUMBER_SYSTEM), None)
            numbers[resource["id"]] = value
            if feed == "gp":
                gp_number[rows[resource["id"]]["person_id"]] = value
    for patient_id, row in rows.items():
        recorded = numbers[patient_id]
        if "wrong-nhs-number" in row["mess"]:
            assert recorded != gp_number[row["person_id"]] and recorded in gp_number.values()
        elif recorded is not None:
            assert recorded == gp_number[row["person_id"]]


def test_the_risk_truth_covers_every_resident(small_place: PlaceSummary) -> None:
    with (small_place.out_dir / "truth" / "risk.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == SMALL
    assert all(0 < float(r["true_probability"]) < 1 and r["outcome"] in ("0", "1") for r in rows)
