"""The referral's state machine as data (decision 0501): which action may be taken from which step, who takes it,
and the step it leads to. The step is the Task's `businessStatus` (vocabulary.referral_steps, each with the FHIR
Task status it puts the Task in); a step not allowed from the current one is refused and nothing changes.

Who acts:
- "receiver": a member of the receiving team (PractitionerRole.healthcareService names it), or a member of staff
  of the organisation that provides it, holding referral.receive;
- "member": a member of the receiving team itself (claiming the team's unallocated work for themselves);
- "sender": whoever sent it (the requester), or a member of staff of the sender's organisation, holding
  referral.send.
"""

from __future__ import annotations

from dataclasses import dataclass

from joinedup.access.capabilities import Capability
from joinedup.care.permissions import REFERRAL_RECEIVE, REFERRAL_SEND
from joinedup.care.vocabulary import vocabulary

WAITING = frozenset({"sent", "redirected", "information-given"})  # with the receiver, not yet accepted
OPEN = frozenset({*WAITING, "information-requested", "accepted", "allocated", "first-contact"})


@dataclass(frozen=True)
class Action:
    name: str  # as in the page's and the API's address: /referrals/{task}/{name}, $referral-{name}
    leads_to: str  # the referral step (vocabulary.referral_steps) it records
    allowed_from: frozenset[str]
    actor: str  # receiver | member | sender
    label: str  # the button's words
    text: str  # "required", "optional" or "none": the note this step writes

    @property
    def capability(self) -> Capability:
        return REFERRAL_SEND if self.actor == "sender" else REFERRAL_RECEIVE


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("accept", "accepted", WAITING, "receiver", "Accept the referral", "optional"),
        Action("decline", "declined", WAITING | {"information-requested"}, "receiver", "Decline the referral",
               "optional"),
        Action("request-information", "information-requested", WAITING, "receiver", "Ask the sender for more "
               "information", "required"),
        Action("give-information", "information-given", frozenset({"information-requested"}), "sender",
               "Send the information asked for", "required"),
        Action("redirect", "redirected", WAITING | {"accepted"}, "receiver", "Redirect to another service",
               "optional"),
        Action("allocate", "allocated", frozenset({"accepted", "allocated"}), "receiver", "Allocate to a named "
               "worker", "optional"),
        Action("claim", "allocated", frozenset({"accepted"}), "member", "Take this referral on myself", "none"),
        Action("first-contact", "first-contact", frozenset({"accepted", "allocated"}), "receiver",
               "Record the first contact", "optional"),
        Action("complete", "completed", frozenset({"accepted", "allocated", "first-contact"}), "receiver",
               "Record the outcome and complete", "required"),
        Action("cancel", "cancelled", OPEN, "sender", "Cancel the referral", "optional"),
    )
}  # fmt: skip


def step_label(step: str) -> str:
    try:
        return vocabulary().get("referral_steps", step).display
    except KeyError:
        return step


def refusal(action: Action, step: str) -> str:
    """Why an action cannot be taken now, in words for the page and the OperationOutcome."""
    return f"This referral is '{step_label(step).lower()}': it cannot be {_past(action)} now"


def _past(action: Action) -> str:
    return {
        "accept": "accepted",
        "decline": "declined",
        "request-information": "sent back for more information",
        "give-information": "answered (nobody has asked for more information)",
        "redirect": "redirected",
        "allocate": "allocated",
        "claim": "claimed",
        "first-contact": "marked as first contact made",
        "complete": "completed",
        "cancel": "cancelled",
    }[action.name]
