"""Each role's home page: which lists it shows, and an honest note of what waits for later issues. The pages a
role may use beyond its lists are linked from the template (role_pages.pages_for)."""

from __future__ import annotations

from dataclasses import dataclass, field

from joinedup.access.handle import CallerHandle

from . import home_lists
from .home_lists import PersonList
from .session import SignedIn

CARE_COORDINATION = "care coordination"


@dataclass
class HomeSection:
    title: str
    people: PersonList
    empty: str
    more_href: str | None = None


@dataclass
class Home:
    heading: str
    sections: list[HomeSection] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)
    own_record: str | None = None


def _gp(caller: CallerHandle, who: SignedIn, org: str, page: int) -> Home:
    registered = home_lists.registered_list(caller, org, (page - 1) * home_lists.LIST_SIZE)
    home = Home(f"{who.organisation_name}")
    home.sections.append(
        HomeSection(
            "Registered patients",
            registered,
            "No patients are registered with this practice.",
            f"/?page={page + 1}" if registered.more else None,
        )
    )
    home.sections.append(
        HomeSection(
            "Open tasks for the practice",
            home_lists.open_tasks(caller, org),
            "There are no open tasks for the practice.",
        )
    )
    if who.role == "mdg-coordinator":
        home.waits.append(
            f"The list of people chosen for the next multidisciplinary group meeting arrives with "
            f"{CARE_COORDINATION}. Until then, use the registered list and person search."
        )
    else:
        home.waits.append(f"Tasks assigned to you by name, and referrals you sent, arrive with {CARE_COORDINATION}.")
    return home


def _caseload(caller: CallerHandle, who: SignedIn, org: str, page: int) -> Home:
    home = Home(f"{who.organisation_name}")
    if who.role != "spa-triage":
        episodes = home_lists.caseload(caller, org, (page - 1) * home_lists.LIST_SIZE)
        home.sections.append(
            HomeSection(
                "Caseload (active episodes of care)",
                episodes,
                "Your organisation has no active episodes of care.",
                f"/?page={page + 1}" if episodes.more else None,
            )
        )
    home.sections.append(
        HomeSection(
            "Open referrals to your organisation",
            home_lists.open_referrals(caller, org),
            "There are no open referrals to your organisation.",
        )
    )
    home.sections.append(
        HomeSection(
            "Open tasks for your organisation",
            home_lists.open_tasks(caller, org),
            "There are no open tasks for your organisation.",
        )
    )
    home.waits.append(
        f"Caseloads allocated to you by name, and triage decisions, arrive with {CARE_COORDINATION}. "
        "Until then these lists show your whole organisation's work."
    )
    return home


def _care_home(caller: CallerHandle, who: SignedIn, org: str) -> Home:
    home = Home(f"{who.organisation_name}")
    home.sections.append(
        HomeSection(
            "People whose records your home keeps",
            home_lists.known_to(caller, org),
            "Your home does not keep records of its own in JoinedUp yet.",
        )
    )
    home.waits.append(
        f"A list of the home's residents arrives with {CARE_COORDINATION}, when residence is recorded. "
        "Until then, find a resident with person search."
    )
    return home


def home_for(caller: CallerHandle, who: SignedIn, page: int = 1) -> Home:
    org = who.organisation
    if who.is_resident:
        return Home(
            "Your record",
            own_record=who.user.split("/", 1)[1],
            waits=["Choosing who may see your record cannot be done online yet."],
        )
    if who.role == "ig-manager" or org is None:
        return Home(
            "Information governance console",
            waits=["Consent, objections and sensitive-record settings have no pages of their own yet."],
        )
    if who.role in {"gp", "mdg-coordinator"}:
        return _gp(caller, who, org, page)
    if who.role == "care-home-staff":
        return _care_home(caller, who, org)
    return _caseload(caller, who, org, page)
