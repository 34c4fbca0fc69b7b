"""Batch linkage of a stored place: Persons, Provenance and review Tasks written through the store, idempotent."""

from __future__ import annotations

import math

from joinedup.identity.batch_service import BatchLinker
from joinedup.identity.model import LinkageModel
from joinedup.identity.resources import (
    Activity,
    Assurance,
    ReviewStatus,
    activity_of,
    entity_patients,
    evidence_of,
)
from joinedup.store.fhir_store import FhirStore

from .people import Person
from .store_place import tiny_place


def test_batch_links_the_stored_place_and_a_rerun_changes_nothing(
    store: FhirStore, model: LinkageModel, people: list[Person]
) -> None:
    place = tiny_place(store, model, people)
    report = BatchLinker(place.index).run()
    assert (report.records, report.persons, report.trained) == (6, 4, False)

    deterministic = place.person_of("g-det")
    assert deterministic.links == {"g-det": Assurance.CONFIRMED, "a-det": Assurance.CONFIRMED}
    probabilistic = place.person_of("c-prob")
    assert probabilistic.links == {"g-prob": Assurance.PROBABLE, "c-prob": Assurance.PROBABLE}
    assert place.person_of("g-alone").links == {"g-alone": Assurance.CONFIRMED}
    assert place.person_of("c-sparse").links == {"c-sparse": Assurance.AWAITING_REVIEW}

    [review] = place.index.reviews(ReviewStatus.OPEN)
    assert (review.patient_id, review.candidate_id, review.method.value) == ("c-sparse", None, "sparse")

    provenances = place.index.search("Provenance", [("target", f"Person/{probabilistic.id}")])
    [link] = [p for p in provenances if activity_of(p) is Activity.LINK]
    assert sorted(entity_patients(link)[0]) == ["c-prob", "g-prob"]
    assert link["agent"][0]["who"]["identifier"]["value"].startswith("joinedup-person-index/")
    evidence = evidence_of(link)
    assert evidence is not None and evidence.method == "probabilistic" and evidence.match_probability >= 0.99
    assert {f.field for f in evidence.fields} >= {"prior", "given_name", "family_name", "birth_date"}
    assert math.isclose(sum(f.weight for f in evidence.fields), evidence.match_weight, abs_tol=1e-2)

    again = BatchLinker(place.index).run()
    assert (again.persons_written, again.provenances_written, again.tasks_written) == (0, 0, 0)
    assert place.person_of("c-prob").id == probabilistic.id
