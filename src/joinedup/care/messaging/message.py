"""Reading a BaRS message Bundle: the checks the standard's structure asks for, each refusal naming where in the
message it is (decision 0502). No I/O: what the message says, resolved within the Bundle, or a `Refused`.

A message is a Bundle of type `message` whose first entry is its MessageHeader: `eventCoding` from
message-events-bars, `reason` from message-reason-bars, `destination[0].endpoint` the receiving service as
`system|value` (a Directory of Services id), `sender` the sending Organization, `focus` the ServiceRequest. Every
reference the referral needs (focus, the ServiceRequest's subject, the sender) must resolve inside the Bundle;
references to the sender's own records outside it (the example's `EpisodeOfCare/…`) are theirs, not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, is_valid, normalise

from .outcomes import Refused, bad_request

Resource = dict[str, Any]

EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
REASONS = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
REFERRAL_REQUEST = "servicerequest-request"
REFERRAL_RESPONSE = "servicerequest-response"
BOOKING_EVENTS = ("booking-request", "booking-response")
KNOWN_EVENTS = (REFERRAL_REQUEST, REFERRAL_RESPONSE, *BOOKING_EVENTS)
NEW, UPDATE, DELETE = "new", "update", "delete"
# The Directory of Services id: NHS England's identifier system is https; the standard's own examples write http.
DOS_SYSTEMS = ("https://fhir.nhs.uk/Id/dos-service-id", "http://fhir.nhs.uk/Id/dos-service-id")
HEADER = "Bundle.entry[0].resource"


@dataclass(frozen=True)
class Message:
    bundle: Resource
    message_id: str  # Bundle.id (or the MessageHeader's id): what makes a resend recognisable
    header: Resource
    event: str
    reason: str
    destination: tuple[str, str]  # (system, value) of MessageHeader.destination[0].endpoint
    focus_url: str  # the focus as the message names it (its fullUrl)
    focus: Resource  # a referral's ServiceRequest (a response's focus may be another resource)
    sender: Resource  # the sending Organization, as the message describes it

    def resolve(self, reference: Any) -> Resource | None:
        return resolve(self.bundle, reference)

    @property
    def patient(self) -> Resource:
        found = self.resolve((self.focus.get("subject") or {}).get("reference"))
        assert found is not None  # read_message checked it
        return found

    @property
    def nhs_number(self) -> str:
        return nhs_number_of(self.patient) or ""

    @property
    def answers(self) -> str | None:
        """For a response: the id of the message it answers (MessageHeader.response.identifier)."""
        return (self.header.get("response") or {}).get("identifier")

    @property
    def source_endpoint(self) -> str | None:
        return (self.header.get("source") or {}).get("endpoint")

    @property
    def sender_key(self) -> str:
        """The sender's own id for its ServiceRequest (its `id`, or the uuid of its `urn:uuid:` fullUrl): the same
        in every message about that referral, so an update or a re-referral finds what the first message made."""
        own = self.focus.get("id")
        if isinstance(own, str) and own:
            return own
        return self.focus_url.removeprefix("urn:uuid:")


def resolve(bundle: Resource, reference: Any) -> Resource | None:
    """A reference resolved inside the Bundle (FHIR's rules for messages): by fullUrl, or `Type/id` by the entry's
    type and id (or a fullUrl ending in it)."""
    if not isinstance(reference, str) or not reference:
        return None
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    for entry in entries:
        if entry.get("fullUrl") == reference:
            return dict(entry["resource"])
    kind, _, rid = reference.partition("/")
    if not rid or reference.startswith("urn:"):
        return None
    for entry in entries:
        resource = entry["resource"]
        named = resource.get("resourceType") == kind and resource.get("id") == rid
        if named or str(entry.get("fullUrl") or "").endswith(f"/{reference}"):
            return dict(resource)
    return None


def nhs_number_of(patient: Resource) -> str | None:
    for identifier in patient.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == NHS_NUMBER_SYSTEM and identifier.get("value"):
            return normalise(str(identifier["value"]))
    return None


def _coding(concept: Any, system: str, where: str) -> str:
    """The code of a Coding (or the first coding of a CodeableConcept) from the system the standard names."""
    if not isinstance(concept, dict) or not concept:
        raise bad_request("required", f"{where} is required", where)
    codings = concept.get("coding") if "coding" in concept else [concept]
    for coding in codings or []:
        if isinstance(coding, dict) and coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    raise bad_request("value", f"{where} must be a code from {system}", where)


def _entries(bundle: Resource) -> list[Resource]:
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise bad_request("required", "A message Bundle needs entries, its MessageHeader first", "Bundle.entry")
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            raise bad_request("structure", "Each entry must hold a resource", f"Bundle.entry[{index}].resource")
    return entries


def _header(bundle: Resource) -> Resource:
    if bundle.get("resourceType") != "Bundle":
        raise bad_request("structure", "The body must be a Bundle of type message", "Bundle.resourceType")
    if bundle.get("type") != "message":
        raise bad_request("invalid", "The Bundle must be of type message", "Bundle.type")
    header: Resource = _entries(bundle)[0]["resource"]
    if header.get("resourceType") != "MessageHeader":
        raise bad_request("invalid", "A message Bundle's first entry must be its MessageHeader", HEADER)
    return header


def _destination(header: Resource) -> tuple[str, str]:
    where = "MessageHeader.destination[0].endpoint"
    destinations = header.get("destination") or []
    endpoint = destinations[0].get("endpoint") if destinations and isinstance(destinations[0], dict) else None
    if not endpoint:
        raise bad_request("required", "The message must name the receiving service", where)
    system, bar, value = str(endpoint).partition("|")
    if not bar or not system or not value:
        raise bad_request("value", "The receiving service must be given as system|value", where)
    return system, value


def read_message(bundle: Resource) -> Message:
    """The message, checked; a `Refused` (400, or 501 for what this receiver does not implement) otherwise."""
    header = _header(bundle)
    event = _coding(header.get("eventCoding"), EVENTS, "MessageHeader.eventCoding")
    if event not in KNOWN_EVENTS:
        raise bad_request("value", f"'{event}' is not a BaRS message event", "MessageHeader.eventCoding")
    if event in BOOKING_EVENTS:
        raise Refused(501, "not-supported", "This receiver takes referrals; it does not take bookings",
                      "MessageHeader.eventCoding")  # fmt: skip
    reason = _coding(header.get("reason"), REASONS, "MessageHeader.reason")
    if reason not in (NEW, UPDATE, DELETE):
        raise bad_request("value", f"'{reason}' is not a BaRS message reason", "MessageHeader.reason")
    if reason == DELETE:
        raise Refused(501, "not-supported", "A referral is cancelled by an update (ServiceRequest.status revoked); "
                      "this receiver does not take delete", "MessageHeader.reason")  # fmt: skip
    message_id = bundle.get("id") or header.get("id")
    if not message_id:
        raise bad_request("required", "The message needs an id (Bundle.id) so that a resend is recognised", "Bundle.id")
    focus_refs = header.get("focus") or []
    focus_url = focus_refs[0].get("reference") if focus_refs and isinstance(focus_refs[0], dict) else None
    if not focus_url:
        raise bad_request("required", "The message needs a focus", "MessageHeader.focus")
    focus = resolve(bundle, focus_url)
    if focus is None:
        raise bad_request("invalid", "The focus must be a resource in the Bundle", "MessageHeader.focus[0]")
    if event == REFERRAL_REQUEST and focus.get("resourceType") != "ServiceRequest":
        raise bad_request("invalid", "A referral's focus must be its ServiceRequest", "MessageHeader.focus[0]")
    sender = resolve(bundle, (header.get("sender") or {}).get("reference"))
    if sender is None or sender.get("resourceType") != "Organization":
        raise bad_request("invalid", "The sender must be an Organization in the Bundle", "MessageHeader.sender")
    message = Message(bundle, str(message_id), header, event, reason, _destination(header), str(focus_url), focus,
                      sender)  # fmt: skip
    if event == REFERRAL_RESPONSE:
        if not message.answers:
            raise bad_request("required", "A response names the message it answers", "MessageHeader.response")
        return message
    _check_referral(message)
    return message


def _check_referral(message: Message) -> None:
    focus = message.focus
    for element in ("status", "intent", "subject"):
        if not focus.get(element):
            raise bad_request("required", f"ServiceRequest.{element} is required", f"ServiceRequest.{element}")
    patient = message.resolve(focus["subject"].get("reference") if isinstance(focus["subject"], dict) else None)
    if patient is None or patient.get("resourceType") != "Patient":
        raise bad_request("invalid", "The ServiceRequest's subject must be a Patient in the Bundle",
                          "ServiceRequest.subject")  # fmt: skip
    number = nhs_number_of(patient)
    if number is None:
        raise bad_request("required", f"The Patient needs an NHS number ({NHS_NUMBER_SYSTEM})", "Patient.identifier")
    if not is_valid(number):
        raise bad_request("value", "The Patient's NHS number fails its check digit (Modulo 11)", "Patient.identifier")
