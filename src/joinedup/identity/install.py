"""What the person index adds to an app's gate: its after-write hook (placing each written Patient as it arrives,
whichever path wrote it, Bundles included — decision 0314) and the service its operations and pages call."""

from __future__ import annotations

from joinedup.access.gate import AccessGate
from joinedup.settings import Settings

from .decisions import Thresholds
from .index_store import PURPOSE
from .service import PersonIndex

HOOK_NAME = "person-index arrivals"


def install(gate: AccessGate, settings: Settings) -> PersonIndex:
    thresholds = Thresholds(settings.identity_link_threshold, settings.identity_review_threshold)
    person_index = PersonIndex(gate.for_system(PURPOSE), thresholds, settings.person_index_keys_dir)
    gate.after_write.register("Patient", HOOK_NAME, person_index.place_arrival)
    return person_index
