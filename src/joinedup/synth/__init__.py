"""`joinedup synth`: a deterministic synthetic borough (modelled on Salford) and every partner's FHIR R4 feeds.

Depends on nothing but `joinedup.fhir`; writes bulk ndjson that `joinedup load` reads. See
docs/decisions/0100-synthetic-place.md for the model, the FHIR mapping and the code systems.
"""

from joinedup.fhir.source import SOURCE_TAG_SYSTEM, SOURCE_URI_PREFIX

from .config import ConfigError, MessRates, SynthConfig
from .generate import PlaceSummary, generate_place

__all__ = [
    "SOURCE_TAG_SYSTEM",
    "SOURCE_URI_PREFIX",
    "ConfigError",
    "MessRates",
    "PlaceSummary",
    "SynthConfig",
    "generate_place",
]
