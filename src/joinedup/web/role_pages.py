"""The pages beyond a role's home lists that exist now, and which roles hold them: what the home page links and the
header's menu shows.

Each page is offered to the roles whose capabilities (roles.json) its own route checks, so a link is never shown to
someone the page would refuse, and nobody is left to guess a page's address. tests/web/test_home_links.py opens every
page as every role and fails when the links and the routes' checks disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from joinedup.access.capabilities import Capability
from joinedup.access.permissions import (
    AUDIT_REVIEW,
    BREAK_GLASS_REVIEW,
    OWN_ACCESS_LOG_READ,
    SECONDARY_USE_READ,
    SUBJECT_ACCESS_ASSEMBLE,
)
from joinedup.access.roles import catalogue
from joinedup.care.permissions import (
    CASELOAD_ALLOCATE,
    CASELOAD_MANAGE,
    HUDDLE_ATTEND,
    REFERRAL_RECEIVE,
    REFERRAL_SEND,
    SPA_MEASURES_READ,
    TRIAGE,
)
from joinedup.identity.permissions import PERSON_INDEX_LINK


@dataclass(frozen=True)
class RolePage:
    href: str
    title: str  # the link's text on the home page
    menu: str  # the shorter label in the header's menu
    what: str  # one line on the home page saying what the page is for
    capabilities: tuple[Capability, ...]  # a role holding any of these may use the page


PAGES = (
    RolePage(
        "/my-access-log",
        "Who has looked at your record",
        "Who looked at my record",
        "Every time someone in health or social care opened, searched or changed your record, and why.",
        (OWN_ACCESS_LOG_READ,),
    ),
    RolePage(
        "/identity/review",
        "Record links to review",
        "Record links",
        "Records that may belong to the same person: compare them and decide whether to link them.",
        (PERSON_INDEX_LINK,),
    ),
    RolePage(
        "/population",
        "Population health",
        "Population health",
        "Levels of need by age and risk, trends, shares by neighbourhood and practice, and case finding.",
        (SECONDARY_USE_READ, CASELOAD_MANAGE),
    ),
    RolePage(
        "/ig/break-glass",
        "Break-glass reviews",
        "Break-glass reviews",
        "Records opened in an emergency without a care relationship, waiting for your review.",
        (BREAK_GLASS_REVIEW,),
    ),
    RolePage(
        "/ig/unusual-access",
        "Unusual access",
        "Unusual access",
        "Users whose access looks unusual, each finding with the audit entries behind it.",
        (AUDIT_REVIEW,),
    ),
    RolePage(
        "/ig/subject-access",
        "Subject access requests",
        "Subject access",
        "Gather a person's whole record and the log of who looked at it, to answer a subject access request.",
        (SUBJECT_ACCESS_ASSEMBLE,),
    ),
    RolePage(
        "/spa",
        "Triage queue",
        "Triage queue",
        "Contacts at the single point of access waiting for a decision, the most urgent first, and what is overdue.",
        (TRIAGE,),
    ),
    RolePage(
        "/spa/contacts/new",
        "Take a contact",
        "Take a contact",
        "Record a phone call, web form or message about a person, found by search or not yet identified.",
        (TRIAGE,),
    ),
    RolePage(
        "/spa/measures",
        "Single point of access measures",
        "SPA measures",
        "Contacts by route, the share resolved at first contact and the time to a triage decision, per month.",
        (SPA_MEASURES_READ,),
    ),
    RolePage(
        "/mdg",
        "Multidisciplinary group huddles",
        "MDG huddles",
        "Your groups' case-finding lists by name, meeting agendas with a summary of each person, and actions.",
        (HUDDLE_ATTEND, CASELOAD_MANAGE),
    ),
    RolePage(
        "/referrals/received",
        "Referrals to my team",
        "Team referrals",
        "Your team's work list: unallocated referrals first, by urgency and when a decision is due.",
        (REFERRAL_RECEIVE,),
    ),
    RolePage(
        "/referrals/sent",
        "Referrals I sent",
        "Referrals I sent",
        "The referrals you sent, with every step the receiving service has taken.",
        (REFERRAL_SEND,),
    ),
    RolePage(
        "/caseload/team",
        "Your team's caseload",
        "Team caseload",
        "Each worker's load, the team's people, and moving a person or a task from one worker to another.",
        (CASELOAD_ALLOCATE,),
    ),
)


def pages_for(role_name: str) -> list[RolePage]:
    """The pages a role may use, in the order above; none for a role the catalogue does not know."""
    roles = catalogue()
    if not roles.known(role_name):
        return []
    role = roles.get(role_name)
    return [page for page in PAGES if any(role.may(c) for c in page.capabilities)]
