"""The vulnerable person protocol: a Flag on the person's record, raised from a contact, with a review date; every
partner with a relationship sees it on the record page (while active), and the single point of access reviews
(a new review date) or closes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from joinedup.access.handle import CallerHandle
from joinedup.care.permissions import TRIAGE
from joinedup.care.referrals.model import instant, parse_instant
from joinedup.care.vocabulary import vocabulary
from joinedup.fhir.errors import Conflict, InvalidRequest, NotFound, PreconditionFailed

from .model import flag_of, is_vulnerable_person_flag

Resource = dict[str, Any]


def default_review(today: date) -> date:
    return today + timedelta(days=int(vocabulary().get("flag_kinds", "vulnerable-person").extra["review_days"]))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _check_review(review: date | None, now: datetime) -> date:
    if review is None:
        raise InvalidRequest("Enter a real review date, for example 27 3 2027", location="review")
    if review < now.date():
        raise InvalidRequest("The review date must be today or in the future", location="review")
    return review


def raise_flag(
    caller: CallerHandle, patient: str, what: str, review: date | None, author: str | None, now: datetime | None = None
) -> str:
    """Raise the flag on a person (the caller needs TRIAGE and a relationship: the gate checks). Its id."""
    caller.require(TRIAGE)
    moment = now or datetime.now(UTC)
    if not what.strip():
        raise InvalidRequest("Enter why the person is vulnerable and what partners should do", location="what")
    day = _check_review(review, moment)
    outcome = caller.create(flag_of(patient, what.strip(), _end_of(day), author, moment))
    return str(outcome.written.id)


def change_flag(
    caller: CallerHandle, flag_id: str, version: str, action: str, review: date | None, now: datetime | None = None
) -> Resource:
    """Review (a new review date) or close (status inactive, period ended now) an active vulnerable-person flag."""
    caller.require(TRIAGE)
    moment = now or datetime.now(UTC)
    current = caller.read("Flag", flag_id)
    flag = dict(current.content or {})
    if not is_vulnerable_person_flag(flag):
        raise NotFound(f"Flag/{flag_id} is not a vulnerable person flag")
    if flag.get("status") != "active":
        raise Conflict("This flag has already been closed: nothing was changed")
    if version != str(current.version_id):
        raise Conflict("Someone changed this flag after you opened it: nothing was changed")
    period = dict(flag.get("period") or {})
    if action == "review":
        period["end"] = instant(_end_of(_check_review(review, moment)))
    elif action == "close":
        flag["status"] = "inactive"
        period["end"] = instant(moment)
    else:
        raise InvalidRequest("Choose to review or close the flag", location="action")
    flag["period"] = period
    try:
        outcome = caller.update("Flag", flag_id, flag, int(version))
    except PreconditionFailed:
        raise Conflict("Someone changed this flag after you opened it: nothing was changed") from None
    return dict(outcome.written.resource or {})


@dataclass(frozen=True)
class ShownFlag:
    """A vulnerable person flag as the record page shows it."""

    id: str
    version: str
    what: str
    raised: str
    review: str
    review_due: bool  # the review date has passed


def _day_text(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else "Not recorded"


def shown_flags(resources: list[Resource], now: datetime | None = None) -> list[ShownFlag]:
    """The active vulnerable person flags among a record's resources, the soonest review first."""
    moment = now or datetime.now(UTC)
    found = []
    for flag in resources:
        if flag.get("resourceType") != "Flag" or flag.get("status") != "active" or not is_vulnerable_person_flag(flag):
            continue
        period = flag.get("period") or {}
        review = parse_instant(period.get("end"))
        found.append(
            (
                review or moment,
                ShownFlag(
                    id=str(flag.get("id")),
                    version=str((flag.get("meta") or {}).get("versionId") or ""),
                    what=str((flag.get("code") or {}).get("text") or "Vulnerable person"),
                    raised=_day_text(parse_instant(period.get("start"))),
                    review=_day_text(review),
                    review_due=review is not None and review < moment,
                ),
            )
        )
    return [shown for _, shown in sorted(found, key=lambda pair: pair[0])]
