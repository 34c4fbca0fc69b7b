"""The answer to a referral the receiver took: a servicerequest-response message, as the standard's
ValidationResponse example is shaped — its MessageHeader answers the request (`response.identifier` = the request's
Bundle id, `code` ok), goes back to the sender's endpoint, and its focus is the ServiceRequest as the receiver now
holds it (with the Task that tracks it). No I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from joinedup.care.referrals.model import Referral, instant

from .message import EVENTS, REASONS, REFERRAL_RESPONSE, Message

Resource = dict[str, Any]
BUNDLE_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage"
HEADER_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-response"


def response_message(message: Message, referral: Referral, service: Resource, base: str) -> Resource:
    request_url = f"{base}/ServiceRequest/{referral.request_id}"
    sender_url = str(message.header["sender"]["reference"])  # the sender as their message names it
    system, value = message.destination
    provider = service.get("providedBy") or {}
    header: Resource = {
        "resourceType": "MessageHeader",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [HEADER_PROFILE]},
        "eventCoding": {"system": EVENTS, "code": REFERRAL_RESPONSE},
        "reason": {"coding": [{"system": REASONS, "code": message.reason}]},
        "destination": [{"receiver": {"reference": sender_url}}],
        "sender": {k: v for k, v in provider.items() if k in ("reference", "display")}
        or {"display": service.get("name")},
        "source": {
            "name": str(service.get("name") or "JoinedUp"),
            "software": "JoinedUp",
            "endpoint": f"{system}|{value}",
        },
        "response": {"identifier": message.message_id, "code": "ok"},
        "focus": [{"reference": request_url}],
    }
    if message.source_endpoint:
        header["destination"][0]["endpoint"] = message.source_endpoint
    entries = [
        {"fullUrl": f"urn:uuid:{header['id']}", "resource": header},
        {"fullUrl": request_url, "resource": referral.request},
    ]
    if referral.task:
        entries.append({"fullUrl": f"{base}/Task/{referral.task_id}", "resource": referral.task})
    entries.append({"fullUrl": sender_url, "resource": message.sender})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [BUNDLE_PROFILE]},
        "type": "message",
        "timestamp": instant(datetime.now(UTC)),
        "entry": entries,
    }
