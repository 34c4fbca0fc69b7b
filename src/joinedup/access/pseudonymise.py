"""Secondary use sees pseudonymised data: what a resource about a person looks like when it leaves for analytics.

A keyed hash (HMAC-SHA256 with the deployment's pseudonymisation key) replaces every logical id of a personal
resource, every reference to one, and every business identifier's value (NHS number, local numbers): the same
person gets the same pseudonym in every answer and every export made under one key, so analysts can join a
person's encounters to their conditions, but nobody without the key can go back from a pseudonym to the person.
Direct identifiers (names, contact details, street addresses, photographs, next of kin) are removed; quasi-
identifiers are generalised (birth and death dates to the year, postcodes to the outward code); free text, which
can name anyone (narrative, notes, message text, attached documents, the display text of references), is removed.
Each pseudonymised resource carries the security label PSEUDED so that it can never be taken for the original.
Directory resources (organisations, staff, places, terminology) are not about a person and pass unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

import orjson

from .personal_types import PERSONAL_TYPES

PSEUDONYMISED_LABEL = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "PSEUDED",
    "display": "pseudonymized",
}
PERSON_TYPES = frozenset({"Patient", "RelatedPerson", "Person"})
# Direct identifiers of the person a Patient/RelatedPerson/Person describes.
_PERSON_DROPPED = ("name", "telecom", "photo", "contact")
# Free text anywhere in a personal resource: notes, message payload text, narrative of a QuestionnaireResponse.
_FREE_TEXT = frozenset({"note", "contentString", "valueString", "comment", "patientInstruction"})
_ATTACHMENT_DROPPED = ("data", "url", "title")
_REFERENCE = re.compile(r"^(?P<base>.*?)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?P<rest>/_history/.*)?$")
_YEAR = re.compile(r"^\d{4}")


class Pseudonymiser:
    """Turns the stored JSON of a resource into its pseudonymised form under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("The pseudonymisation key must be at least 16 bytes")
        self._key = key

    def pseudonym(self, namespace: str, value: str) -> str:
        """The keyed hash of a value in a namespace (a resource type, or an identifier system): 32 hex digits."""
        return hmac.new(self._key, f"{namespace}|{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def resource_id(self, resource_type: str, resource_id: str) -> str:
        return self.pseudonym(resource_type, resource_id) if resource_type in PERSONAL_TYPES else resource_id

    def raw(self, resource_type: str, raw: bytes) -> bytes:
        if resource_type not in PERSONAL_TYPES:
            return raw
        return orjson.dumps(self.resource(orjson.loads(raw)))

    def resource(self, resource: dict[str, Any]) -> dict[str, Any]:
        resource_type = str(resource.get("resourceType", ""))
        if resource_type not in PERSONAL_TYPES:
            return resource
        shown: dict[str, Any] = self._walk(resource)
        if "id" in shown:
            shown["id"] = self.pseudonym(resource_type, str(shown["id"]))
        meta = shown.setdefault("meta", {})
        labels = [label for label in meta.get("security", []) if label.get("code") != PSEUDONYMISED_LABEL["code"]]
        meta["security"] = [*labels, PSEUDONYMISED_LABEL]
        return shown

    # --- the parts ---------------------------------------------------------------------------------------------
    def _walk(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        shown: dict[str, Any] = {}
        for name, value in node.items():
            if name in _FREE_TEXT:
                continue
            if name == "identifier":
                shown[name] = self._identifiers(value)
            elif name == "reference" and isinstance(value, str):
                shown[name] = self._reference(value)
            elif name == "display" and "reference" in node:
                continue  # a reference's display text names the person or the author
            else:
                shown[name] = self._walk(value)
        if "contentType" in node or "data" in node:  # an Attachment
            for name in _ATTACHMENT_DROPPED:
                shown.pop(name, None)
        if "resourceType" in node:  # the resource itself or a contained one (whose local "#id" is kept)
            shown.pop("text", None)
            if node["resourceType"] in PERSON_TYPES:
                self._generalise_person(shown)
        return shown

    def _identifiers(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._identifiers(item) for item in value]
        if not isinstance(value, dict):
            return value
        shown = {k: self._walk(v) for k, v in value.items() if k not in ("assigner",)}
        if isinstance(value.get("value"), str):
            shown["value"] = self.pseudonym(str(value.get("system", "")), value["value"])
        return shown

    def _reference(self, reference: str) -> str:
        if reference.startswith("#") or reference.startswith("urn:"):
            return reference
        parts = _REFERENCE.match(reference)
        if parts is None or parts["type"] not in PERSONAL_TYPES:
            return reference
        return f"{parts['type']}/{self.pseudonym(parts['type'], parts['id'])}"

    @staticmethod
    def _generalise_person(person: dict[str, Any]) -> None:
        for name in _PERSON_DROPPED:
            person.pop(name, None)
        for name in ("birthDate", "deceasedDateTime"):
            value = person.get(name)
            if isinstance(value, str) and _YEAR.match(value):
                person[name] = value[:4]
        addresses = person.get("address")
        if isinstance(addresses, list):
            person["address"] = [_outward_only(a) for a in addresses if isinstance(a, dict)]


def _outward_only(address: dict[str, Any]) -> dict[str, Any]:
    """The district an address is in, no more: the postcode's outward code and the country."""
    kept: dict[str, Any] = {k: address[k] for k in ("use", "type", "country") if k in address}
    postcode = address.get("postalCode")
    if isinstance(postcode, str) and postcode.strip():
        kept["postalCode"] = postcode.strip().split()[0]
    return kept


def load_key(configured: str, key_file: Path) -> bytes:
    """The deployment's key: the configured one, else the key file, made (readable by its owner only) on first use
    so that every worker process and every restart pseudonymises alike."""
    if configured:
        return configured.encode()
    try:
        return key_file.read_bytes().strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    written = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
    try:
        os.link(written, key_file)  # atomic: a whole key or none; another worker may have linked theirs first
    except FileExistsError:
        pass
    finally:
        written.unlink()
    return key_file.read_bytes().strip()
