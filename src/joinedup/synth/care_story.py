"""How one referral unfolds in time (decision 0506): sent, then decided (accepted about four times in five, else
declined with a reason), allocated to a named worker or left with the team, first contact, outcome. Each wait is a
lognormal draw whose median depends on the urgency; whatever has not happened by the place's "now" has not
happened, so recent referrals are still open and some are past the time their decision was due."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from joinedup.care.vocabulary import vocabulary

from .care_directory import Team
from .tables import table


def wait(rng: random.Random, median_sigma: list[float], unit: timedelta) -> timedelta:
    median, sigma = float(median_sigma[0]), float(median_sigma[1])
    return unit * (median * math.exp(rng.gauss(0.0, sigma)))


def pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()), k=1)[0]


def worker(rng: random.Random, team: Team) -> str:
    """A member of the team; the first member (the demo's worker) carries a heavier load."""
    weights = [4.0 if i == 0 else 1.0 for i in range(len(team.members))]
    return rng.choices(team.members, weights=weights, k=1)[0]


@dataclass
class Step:
    code: str  # a referral_steps code
    at: datetime
    author: str  # reference of who took the step
    text: str


@dataclass
class Story:
    urgency: str
    authored: datetime
    steps: list[Step] = field(default_factory=list)
    owner: str = ""  # HealthcareService/<team> or PractitionerRole/<worker>
    decline_reason: str | None = None
    outcome: str | None = None
    first_contact: datetime | None = None
    finished: datetime | None = None

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def is_open(self) -> bool:
        return vocabulary().get("referral_steps", self.last.code).extra["task_status"] not in {
            "completed",
            "rejected",
            "cancelled",
        }


def referral_story(
    rng: random.Random,
    authored: datetime,
    urgency: str,
    now: datetime,
    sender: str,
    team: Team,
    force_first_contact: str | None = None,
) -> Story:
    """The steps a referral to `team` has taken by `now`. `force_first_contact` (a worker's role id): the referral
    that opened that worker's caseload episode, which has reached first contact by `now` whatever the draws."""
    work = table("care_work")
    story = Story(urgency, authored, [Step("sent", authored, sender, "Referral sent")], team.ref)
    decided = authored + wait(rng, work["decision_hours"][urgency], timedelta(hours=1))
    team_member = f"PractitionerRole/{team.manager or team.members[0]}"
    if force_first_contact is None and decided > now:
        if rng.random() < work["information_requested"] * 4 and authored + timedelta(hours=2) < now:
            asked = authored + (now - authored) * rng.uniform(0.2, 0.8)
            story.steps.append(Step("information-requested", asked, team_member, "Please send the latest care plan"))
        elif rng.random() < 0.03 and authored + timedelta(days=2) < now:
            story.steps.append(Step("cancelled", authored + timedelta(days=1), sender, "No longer needed"))
        return story
    if force_first_contact is None and rng.random() > work["acceptance"]:
        reason = rng.choice(sorted(work["decline_words"]))
        story.decline_reason = reason
        story.steps.append(Step("declined", decided, team_member, str(work["decline_words"][reason])))
        return story
    decided = min(decided, now - timedelta(hours=1))
    story.steps.append(Step("accepted", decided, team_member, "Accepted"))
    first = decided + wait(rng, work["first_contact_days"][urgency], timedelta(days=1))
    allocated = decided + wait(rng, [20, 0.8], timedelta(hours=1))
    named = force_first_contact or (worker(rng, team) if rng.random() < work["allocated_share"] else None)
    if force_first_contact is not None:
        allocated, first = min(allocated, now - timedelta(hours=2)), min(first, now - timedelta(hours=1))
        allocated = min(allocated, first)
    if named is None or allocated > now:
        return story
    story.owner = f"PractitionerRole/{named}"
    story.steps.append(Step("allocated", allocated, team_member, "Allocated to a named worker"))
    if first > now:
        return story
    first = max(first, allocated)
    story.first_contact = first
    story.steps.append(Step("first-contact", first, story.owner, "First visit made; plan agreed with the person"))
    done = first + wait(rng, work["completion_days"], timedelta(days=1))
    if force_first_contact is not None or done > now:
        return story
    story.outcome = rng.choice(work["outcome_words"])
    story.finished = done
    story.steps.append(Step("completed", done, story.owner, story.outcome))
    return story
