"""The access matrix (issue 5, "Proof"; issue 25, decision 0321): every route of the application's own route table
× every role in roles.json × with and without a relationship × with and without an objection × sensitive and not,
each cell with one expected answer.

Each cell makes the request as that role's user and asserts exactly what comes back against the oracle
(test_matrix_place.py) and the rule table below (what a role's capabilities decide): the status, the ids (no
more, no less), `_total`, that a withheld resource never appears in includes, history, errors or exports, the
effect of a write (made or not), and that the access was audited. The app's routes are read in a fixture; a route
with no cells fails `test_every_route_has_cells`, so a new route cannot slip past the matrix. Design: decisions
0320 and 0321.

Reads share one place per database (loaded, and population-refreshed, once per module); writes change copies in a
second place, and break-glass (which changes what its user sees from then on) gets a fresh place per database.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import itsdangerous
import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, insert, select

from joinedup.access.audit.trail import AuditEntry, now_micros
from joinedup.access.context import AccessContext
from joinedup.access.gate import AccessGate
from joinedup.access.roles import catalogue
from joinedup.app import create_app
from joinedup.identity.decisions import Method
from joinedup.identity.index_store import PURPOSE as INDEX_PURPOSE
from joinedup.identity.index_store import IndexStore
from joinedup.identity.resources import (
    Assurance,
    PersonState,
    ReviewItem,
    ReviewStatus,
    person_resource,
    review_id,
    task_resource,
)  # fmt: skip
from joinedup.population.loading import POPULATION_PURPOSE, load_store
from joinedup.population.refresh import refresh
from joinedup.settings import Settings
from joinedup.store.context import SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.governance_schema import audit_log, oauth_tokens
from joinedup.web.csrf import CSRF_HEADER, CSRF_KEY
from joinedup.web.install import SESSION_COOKIE
from joinedup.web.session import SESSION_KEY, SignedIn

from ..conftest import migrated_database
from ..web import place as web_place
from . import test_matrix_place as mx

SECRET = "matrix-session-secret-not-for-production"
CSRF = "matrix-csrf-token"
FHIR_JSON = {"content-type": "application/fhir+json"}
DIMENSIONS = [(r, o, s) for r in (True, False) for o in (False, True) for s in (False, True)]


# --- the route table ---------------------------------------------------------------------------------------------
def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the application serves, read from the app itself (HEAD goes with GET)."""
    found = {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in (getattr(context, "methods", None) or ())
        if method != "HEAD"
    }
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


# --- the places, once per database -------------------------------------------------------------------------------
def _database(request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    yield from migrated_database(request, tmp, "matrix.sqlite3")


@dataclass
class Place:
    """The app on one database holding the matrix place, and ways in as any user."""

    client: TestClient
    app: FastAPI
    store: FhirStore
    backend: str
    population_db: Path
    tokens: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    exports: dict[tuple[str, str], tuple[str, set[str]]] = field(default_factory=dict)
    answered: dict[tuple[str, str, str, str], tuple[Response, list[AuditEntry]]] = field(default_factory=dict)

    @property
    def gate(self) -> Any:
        return self.app.state.services.gate

    def last_seq(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one())

    def audit_since(self, seq: int) -> list[AuditEntry]:
        entries: list[AuditEntry] = self.gate.audit.entries(since_seq=seq)
        return entries

    def token(self, user: mx.User) -> str:
        """A user token, as the SMART launch would issue it (written straight to the token table)."""
        key = f"{user.role}:{user.user}"
        if key not in self.tokens:
            token = uuid.uuid4().hex
            with self.store.engine.begin() as conn:
                conn.execute(insert(oauth_tokens).values(
                    token_hash=hashlib.sha256(token.encode()).hexdigest(), kind="access", client_id="mx-app",
                    user_ref=user.user, role=user.role, organisation=user.organisation, scopes="user/*.cruds",
                    expires=now_micros() + 3600 * 1_000_000, detail=None))  # fmt: skip
            self.tokens[key] = token
        return self.tokens[key]

    def cookie(self, user: mx.User) -> str:
        """A signed-in session, as any sign-in writes it, with a known CSRF token."""
        key = f"{user.role}:{user.user}"
        if key not in self.cookies:
            who = SignedIn(key=user.role, user=user.user, name="Matrix User", role=user.role,
                           role_label=catalogue().get(user.role).label, organisation=user.organisation,
                           organisation_name="Matrix")  # fmt: skip
            session_id = self.gate.accounts.sessions.start(f"demo:{key}", asdict(who), 3600, None)
            data = b64encode(json.dumps({SESSION_KEY: session_id, CSRF_KEY: CSRF}).encode("utf-8"))
            self.cookies[key] = itsdangerous.TimestampSigner(SECRET).sign(data).decode("utf-8")
        return self.cookies[key]

    def api(self, user: mx.User, method: str, url: str, **kwargs: Any) -> Response:
        headers = {"authorization": f"Bearer {self.token(user)}", **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def once(self, user: mx.User, via: str, method: str, url: str, **kwargs: Any) -> tuple[Response, list[AuditEntry]]:
        """A request that changes nothing, made once per user and route test: cells that differ only in what the
        request cannot depend on (the sensitivity of a resource it does not name) check the same answer and the
        audit entries it made."""
        key = (user.user, user.role, method, url + repr(sorted(kwargs.get("data", {}).items())))
        if key not in self.answered:
            seq = self.last_seq()
            response = (self.api if via == "api" else self.page)(user, method, url, **kwargs)
            self.answered[key] = (response, self.audit_since(seq))
        return self.answered[key]

    def page(self, user: mx.User, method: str, url: str, **kwargs: Any) -> Response:
        self.client.cookies.clear()
        self.client.cookies.set(SESSION_COOKIE, self.cookie(user))
        try:
            headers = {CSRF_HEADER: CSRF, **kwargs.pop("headers", {})}  # the session's token, as its forms send it
            response = self.client.request(method, url, follow_redirects=False, headers=headers, **kwargs)
            renewed = response.cookies.get(SESSION_COOKIE)
            if renewed:  # a privilege change (break-glass) renews the session, as a browser would keep the new one
                self.cookies[f"{user.role}:{user.user}"] = renewed
            return response
        finally:
            self.client.cookies.clear()


POPULATION_INDEX_DATE = date(2024, 12, 31)  # the population people's golden index date (tests/population)


def _refresh_population(store: FhirStore, path: Path) -> Path:
    """The population refresh run on the matrix place, as `joinedup population refresh` runs it on the store."""
    con = duckdb.connect(str(path))
    try:
        load_store(con, AccessGate(store).for_system(POPULATION_PURPOSE))
        refresh(con, POPULATION_INDEX_DATE)
    finally:
        con.close()
    return path


def _place(request: pytest.FixtureRequest, tmp: Path, population: bool = False) -> Iterator[Place]:
    for url in _database(request, tmp):
        store = FhirStore(make_engine(url))
        web_place.load(store, mx.resources())
        population_db = _refresh_population(store, tmp / "population.duckdb") if population else tmp / "none.duckdb"
        # The sign-in and token throttles count failures whoever makes them: off, so every cell has one answer.
        settings = Settings(database_url=url, environment="test", export_dir=tmp / "exports", session_secret=SECRET,
                            max_request_bytes=1024 * 1024, pseudonym_key_file=tmp / "pseudonym.key",
                            population_db=population_db, sign_in_failures_per_account=0,
                            sign_in_failures_per_address=0, token_failures_per_client=0,
                            token_failures_per_address=0)  # fmt: skip
        app = create_app(settings)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            yield Place(client, app, store, str(request.param), population_db)
        store.engine.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("matrix-routes")
    settings = Settings(database_url=f"sqlite:///{folder}/routes.sqlite3", environment="test",
                        pseudonym_key_file=folder / "pseudonym.key", export_dir=folder / "exports")  # fmt: skip
    return routes_of(create_app(settings))


@pytest.fixture(scope="module", params=BACKENDS)
def reads(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    yield from _place(request, tmp_path_factory.mktemp("matrix-reads"), population=True)


@pytest.fixture(scope="module", params=BACKENDS)
def writes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    yield from _place(request, tmp_path_factory.mktemp("matrix-writes"))


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    yield from _place(request, tmp_path)


# --- cells -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    role: str
    related: bool
    objected: bool
    sensitive: bool

    @property
    def subject(self) -> mx.Subject:
        return mx.subject(self.related, self.objected)

    @property
    def user(self) -> mx.User:
        return mx.user_for(self.role, self.subject)

    @property
    def kind(self) -> str:
        return "sensitive" if self.sensitive else "plain"

    @property
    def target(self) -> str:
        return self.subject.observation_id(self.kind)

    @property
    def target_key(self) -> str:
        return f"Observation/{self.target}"

    @property
    def sees_target(self) -> bool:
        return mx.visible(self.user, mx.entry_of(self.target_key))

    @property
    def sees_patient(self) -> bool:
        return mx.visible(self.user, mx.entry_of(f"Patient/{self.subject.patient_id}"))

    @property
    def code(self) -> str:
        return mx.KINDS[self.kind]

    def __str__(self) -> str:
        return (f"{self.role}, {'related' if self.related else 'unrelated'}, "
                f"{'objected' if self.objected else 'no objection'}, {self.kind}")  # fmt: skip


CELLS = [Cell(role, r, o, s) for role in mx.ROLES for r, o, s in DIMENSIONS]


class Check:
    """Collects what is wrong with one cell, so one test reports every failing cell of its route."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.cells = 0

    def cell(self, cell: Cell | str) -> Callable[[bool, str], None]:
        self.cells += 1

        def expect(ok: bool, what: str) -> None:
            if not ok:
                self.problems.append(f"[{cell}] {what}")

        return expect

    def done(self, route: tuple[str, str]) -> None:
        assert self.cells > 0, f"{route} ran no cells"
        CELL_COUNTS[route] = CELL_COUNTS.get(route, 0) + self.cells
        print(f"\naccess matrix: {self.cells} cells for {route[0]} {route[1]}")  # the size, for the closing note
        assert not self.problems, f"{route}: {len(self.problems)} of {self.cells} cells wrong:\n" + "\n".join(
            self.problems[:40]
        )


CELL_COUNTS: dict[tuple[str, str], int] = {}


def keys_of(bundle: dict[str, Any], mode: str | None = None) -> set[str]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if "resource" in e and (mode is None or e.get("search", {}).get("mode") == mode)
    }


def markers_in(text: str) -> set[str]:
    """Which of the place's Observations a body mentions (by their unique text)."""
    return {f"Observation/{s.observation_id(k)}" for s in mx.SUBJECTS for k in mx.KINDS if s.marker(k) in text}


def names_in(text: str) -> set[str]:
    """Which of the place's Patient records a body names (each record has a family name found nowhere else)."""
    found = {f"Patient/{s.patient_id}" for s in mx.SUBJECTS if s.family in text}
    seconds = ((s, k) for s in mx.SUBJECTS for k in mx.SECOND_KINDS)
    return found | {f"Patient/{s.second_record(k)}" for s, k in seconds if s.second_family(k) in text}


def visible_markers(user: mx.User) -> set[str]:
    if mx.secondary_use(user):
        return mx.secondary_keys("Observation")
    return {k for k in mx.visible_keys(user, "Observation")}


def pseudonymised_key(place: Place, key: str) -> str:
    """The key as secondary use sees it: a personal resource under its pseudonym."""
    resource_type, _, resource_id = key.partition("/")
    return f"{resource_type}/{place.gate.pseudonymiser.resource_id(resource_type, resource_id)}"


def pseudonymised(place: Place, keys: set[str]) -> set[str]:
    return {pseudonymised_key(place, key) for key in keys}


def shown_target(place: Place, cell: Cell) -> tuple[str, bool]:
    """The cell's resource as its user would be shown it, and whether they are: under its pseudonym and by the
    secondary-use rule for secondary use, as stored and by the direct-care rule for everyone else."""
    if not mx.secondary_use(cell.user):
        return cell.target_key, cell.sees_target
    return pseudonymised_key(place, cell.target_key), mx.secondary_visible(mx.entry_of(cell.target_key))


def refused_to_secondary_use(
    expect: Callable[[bool, str], None], response: Response, entries: list[AuditEntry], user: mx.User, action: str
) -> None:
    """A question that names a person, asked for secondary use: 403 whether or not they exist, audited."""
    expect(response.status_code == 403, f"status {response.status_code}, expected 403 for secondary use")
    expect("Secondary use sees pseudonymised data" in response.text, "the refusal does not say why")
    audited(expect, entries, user, {action}, "failure")
    no_leak(expect, user, response.text)


def no_leak(expect: Callable[[bool, str], None], user: mx.User, body: str, names: bool = True) -> None:
    """Nothing the user may not see is mentioned in the body: no Observation's text, no person's name."""
    leaked = markers_in(body) - visible_markers(user)
    expect(not leaked, f"reveals {sorted(leaked)}")
    if not names:
        return
    if mx.secondary_use(user):  # pseudonymised: nobody's name, seen or not
        expect(not names_in(body), f"names {sorted(names_in(body))} to secondary use")
        return
    hidden_people = names_in(body) - mx.visible_keys(user, "Patient")
    expect(not hidden_people, f"names {sorted(hidden_people)}")


def audited(
    expect: Callable[[bool, str], None], entries: list[AuditEntry], user: mx.User, actions: set[str], outcome: str,
    patient: str | None = None,
) -> None:  # fmt: skip
    """The request's own audit entries include one by this user, of this action and outcome, naming the person."""
    mine = [e for e in entries if e.user == user.user and e.action in actions]
    expect(bool(mine), f"no '{'/'.join(sorted(actions))}' audit entry for the access")
    if mine:
        expect(any(e.outcome == outcome for e in mine), f"audit outcome is not {outcome}: {[e.outcome for e in mine]}")
        if patient is not None:
            expect(any(patient in e.patients for e in mine), f"audit entry does not name Patient/{patient}")


# --- the rules the cells expect: role capabilities × cell, one answer each ---------------------------------------
def holds(role_name: str, *capabilities: str) -> bool:
    """The role holds any of these capabilities (roles.json)."""
    held = catalogue().get(role_name)
    return any(held.may(capability) for capability in capabilities)


# Pages and routes gated by capability alone: 200 (or the answer named) with any of these, 403 without.
PAGE_CAPABILITIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/ig/break-glass"): ("break-glass.review",),
    ("GET", "/ig/unusual-access"): ("audit.review",),
    ("GET", "/ig/audit"): ("audit.review",),
    ("GET", "/ig/subject-access"): ("subject-access.assemble",),
    ("GET", "/my-access-log"): ("own-access-log.read",),
    ("GET", "/population"): ("secondary-use.read", "caseload.manage"),
    ("GET", "/population/shares"): ("secondary-use.read", "caseload.manage"),
    ("GET", "/population/trends"): ("secondary-use.read", "caseload.manage"),
    ("GET", "/population/case-finding"): ("secondary-use.read", "caseload.manage"),
    ("GET", "/population/case-finding.csv"): ("secondary-use.read", "caseload.manage"),
}

# What lets a role write each resource type the matrix writes (policy.may_write): a care planning type also by
# `care-plan.write`; secondary use never writes (the analyst holds none of these).
RECORD_WRITERS = ("record.write.clinical", "record.write.social-care")
WRITE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "Observation": RECORD_WRITERS,
    "Condition": RECORD_WRITERS,
    "EpisodeOfCare": RECORD_WRITERS,  # a social care episode
    "CarePlan": ("care-plan.write", *RECORD_WRITERS),
}
LINK_CAPABILITY = "person-index.link"  # accept, reject, merge, unmerge


def may_write(role_name: str, resource_type: str) -> bool:
    return holds(role_name, *WRITE_CAPABILITIES[resource_type])


def sees(user: mx.User, patient_id: str) -> bool:
    """The user may see this Patient record by the direct-care (or own-record, or unrestricted) rules."""
    return mx.visible(user, mx.entry_of(f"Patient/{patient_id}"))


def link_decision(cell: Cell, records: list[str], done: int) -> int:
    """A person index decision: 403 without person-index.link; 404 (not found, decision 0301) unless the user may
    see every record it is about; otherwise done."""
    if not holds(cell.role, LINK_CAPABILITY):
        return 403
    return done if all(sees(cell.user, record) for record in records) else 404


ROUTE_CHECKS: dict[tuple[str, str], Callable[[Place, Check, tuple[str, str]], None]] = {}
WRITE_ROUTES: set[tuple[str, str]] = set()
FRESH_ROUTES: set[tuple[str, str]] = set()


def route(method: str, path: str, kind: str = "read") -> Callable[[Any], Any]:
    def register(check: Callable[[Place, Check, tuple[str, str]], None]) -> Any:
        ROUTE_CHECKS[(method, path)] = check
        if kind == "write":
            WRITE_ROUTES.add((method, path))
        if kind == "fresh":
            FRESH_ROUTES.add((method, path))
        return check

    return register


# --- FHIR reads --------------------------------------------------------------------------------------------------
def _instance(place: Place, check: Check, url_of: Callable[[Cell], str], action: str) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        seq = place.last_seq()
        response = place.api(cell.user, "GET", url_of(cell))
        if mx.secondary_use(cell.user):
            refused_to_secondary_use(expect, response, place.audit_since(seq), cell.user, action)
        elif cell.sees_target:
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
            if response.status_code == 200:
                body = response.json()
                found = keys_of(body) if body.get("resourceType") == "Bundle" else {f"Observation/{body.get('id')}"}
                expect(found == {cell.target_key}, f"returned {sorted(found)}")
            audited(expect, place.audit_since(seq), cell.user, {action}, "success", cell.subject.patient_id)
        else:
            expect(response.status_code == 404, f"status {response.status_code}, expected 404 (decision 0301)")
            audited(expect, place.audit_since(seq), cell.user, {action}, "failure")
        no_leak(expect, cell.user, response.text)


@route("GET", "/fhir/{resource_type}/{resource_id}")
def _read(place: Place, check: Check, _: tuple[str, str]) -> None:
    _instance(place, check, lambda c: f"/fhir/Observation/{c.target}", "read")


@route("GET", "/fhir/{resource_type}/{resource_id}/_history/{version_id}")
def _vread(place: Place, check: Check, _: tuple[str, str]) -> None:
    _instance(place, check, lambda c: f"/fhir/Observation/{c.target}/_history/1", "vread")


@route("GET", "/fhir/{resource_type}/{resource_id}/_history")
def _instance_history(place: Place, check: Check, _: tuple[str, str]) -> None:
    _instance(place, check, lambda c: f"/fhir/Observation/{c.target}/_history", "history")


def _search_cells(place: Place, check: Check, method: str) -> None:
    """GET: by subject and code, including the subject. POST: the person, only if they have an Observation of that
    code (_has), with their Observations reverse-included."""
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        seq = place.last_seq()
        if method == "GET":
            url = (f"/fhir/Observation?subject=Patient/{pid}&code={mx.SNOMED}|{cell.code}"
                   "&_include=Observation:subject&_total=accurate")  # fmt: skip
            response = place.api(user, "GET", url)
            matches = {cell.target_key} if cell.sees_target else set()
            included = {f"Patient/{pid}"} if matches and cell.sees_patient else set()
        else:
            form = {"_id": pid, "_has:Observation:subject:code": cell.code,
                    "_revinclude": "Observation:subject", "_total": "accurate"}  # fmt: skip
            response = place.api(user, "POST", "/fhir/Patient/_search", data=form)
            matches = {f"Patient/{pid}"} if cell.sees_target and cell.sees_patient else set()
            included = mx.visible_keys(user, "Observation", pid) if matches else set()
        if mx.secondary_use(user):  # both name the person (subject=, _id=)
            refused_to_secondary_use(expect, response, place.audit_since(seq), user, "search")
            continue
        expect(response.status_code == 200, f"status {response.status_code}")
        if response.status_code == 200:
            body = response.json()
            expect(
                keys_of(body, "match") == matches, f"matches {sorted(keys_of(body, 'match'))}, not {sorted(matches)}"
            )
            got = keys_of(body, "include")
            expect(got == included, f"includes {sorted(got)}, not {sorted(included)}")
            expect(body.get("total") == len(matches), f"_total {body.get('total')}, not {len(matches)}")
        audited(expect, place.audit_since(seq), user, {"search"}, "success")
        no_leak(expect, user, response.text)


@route("GET", "/fhir/{resource_type}")
def _search_get(place: Place, check: Check, _: tuple[str, str]) -> None:
    _search_cells(place, check, "GET")


@route("POST", "/fhir/{resource_type}/_search")
def _search_post(place: Place, check: Check, _: tuple[str, str]) -> None:
    _search_cells(place, check, "POST")


def _history_cells(place: Place, check: Check, url: str, resource_type: str | None) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response, entries = place.once(cell.user, "api", "GET", url)
        expect(response.status_code == 200, f"status {response.status_code}")
        if response.status_code == 200:
            body = response.json()
            wanted = (pseudonymised(place, mx.secondary_keys(resource_type)) if mx.secondary_use(cell.user)
                      else mx.visible_keys(cell.user, resource_type))  # fmt: skip
            target, sees = shown_target(place, cell)
            got = keys_of(body)
            expect(got == wanted, f"history has {sorted(got - wanted)} more and {sorted(wanted - got)} fewer")
            expect((target in got) == sees, "the cell's resource is wrongly shown or hidden")
            expect(body.get("total") == len(got), f"total {body.get('total')} for {len(got)} versions")
        audited(expect, entries, cell.user, {"history"}, "success")
        no_leak(expect, cell.user, response.text)


@route("GET", "/fhir/{resource_type}/_history")
def _type_history(place: Place, check: Check, _: tuple[str, str]) -> None:
    _history_cells(place, check, "/fhir/Observation/_history?_count=1000", "Observation")


@route("GET", "/fhir/_history")
def _system_history(place: Place, check: Check, _: tuple[str, str]) -> None:
    _history_cells(place, check, "/fhir/_history?_count=1000", None)


@route("GET", "/fhir/Patient/{patient_id}/$everything")
def _everything(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        response, entries = place.once(user, "api", "GET", f"/fhir/Patient/{pid}/$everything?_count=1000")
        if mx.secondary_use(user):
            refused_to_secondary_use(expect, response, entries, user, "everything")
        elif cell.sees_patient:
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
            if response.status_code == 200:
                got = keys_of(response.json())
                wanted = mx.visible_keys(user, patient=pid) | {f"Patient/{pid}"}
                personal = {k for k in got if mx.entry_of(k).patient is not None}
                expect(personal == wanted, f"{sorted(personal - wanted)} more, {sorted(wanted - personal)} fewer")
                expect((cell.target_key in got) == cell.sees_target, "the cell's resource is wrongly shown or hidden")
            audited(expect, entries, user, {"everything"}, "success", pid)
        else:
            expect(response.status_code == 404, f"status {response.status_code}, expected 404")
            audited(expect, entries, user, {"everything"}, "failure")
        no_leak(expect, user, response.text)


@route("GET", "/fhir/Patient/{patient_id}/{resource_type}")
def _compartment(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        response, entries = place.once(
            user, "api", "GET", f"/fhir/Patient/{pid}/Observation?_total=accurate&_count=1000"
        )
        if mx.secondary_use(user):
            refused_to_secondary_use(expect, response, entries, user, "search")
            continue
        if not cell.sees_patient:  # a person the caller may not see answers 404, like their record (decision 0301)
            expect(response.status_code == 404, f"status {response.status_code}, expected 404")
            audited(expect, entries, user, {"search"}, "failure")
            no_leak(expect, user, response.text)
            continue
        expect(response.status_code == 200, f"status {response.status_code}")
        if response.status_code == 200:
            body = response.json()
            wanted = mx.visible_keys(user, "Observation", pid)
            expect(keys_of(body) == wanted, f"returned {sorted(keys_of(body))}, not {sorted(wanted)}")
            expect(body.get("total") == len(wanted), f"_total {body.get('total')}, not {len(wanted)}")
        audited(expect, entries, user, {"search"}, "success")
        no_leak(expect, user, response.text)


# --- bulk export -------------------------------------------------------------------------------------------------
def _export(place: Place, user: mx.User, url: str) -> tuple[int, str, set[str]]:
    """Kick off, wait, read every file: (kick-off status, status URL path, ids exported)."""
    response = place.api(user, "GET", url, headers={"prefer": "respond-async"})
    if response.status_code != 202:
        return response.status_code, "", set()
    status_path = response.headers["content-location"].split("/fhir", 1)[1]
    for _ in range(200):
        status = place.api(user, "GET", f"/fhir{status_path}")
        if status.status_code != 202:
            break
        time.sleep(0.05)
    assert status.status_code == 200, status.text
    found: set[str] = set()
    for output in status.json()["output"]:
        file = place.api(user, "GET", "/fhir" + output["url"].split("/fhir", 1)[1])
        for line in file.text.splitlines():
            item = orjson.loads(line)
            found.add(f"{item['resourceType']}/{item['id']}")
    return 202, status_path, found


def _export_cells(place: Place, check: Check, url_of: Callable[[Cell], str], per_subject: bool) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        key = (user.user, url_of(cell))
        seq = place.last_seq()
        if key not in place.exports:
            status, status_path, found = _export(place, user, url_of(cell))
            place.exports[key] = (status_path, found)
            audited(expect, place.audit_since(seq), user, {"export"}, "success")
            expect(status == 202, f"kick-off status {status}")
        found = place.exports[key][1]
        wanted = mx.visible_keys(user, "Observation", pid if per_subject else None)
        if mx.secondary_use(user):
            wanted = pseudonymised(place, mx.secondary_keys("Observation"))
        target, sees = shown_target(place, cell)
        expect(found == wanted, f"exported {sorted(found - wanted)} more, {sorted(wanted - found)} fewer")
        expect((target in found) == sees, "the cell's resource is wrongly exported or not")


@route("GET", "/fhir/$export")
def _system_export(place: Place, check: Check, _: tuple[str, str]) -> None:
    _export_cells(place, check, lambda c: "/fhir/$export?_type=Observation", False)


@route("GET", "/fhir/Patient/$export")
def _patient_export(place: Place, check: Check, _: tuple[str, str]) -> None:
    _export_cells(place, check, lambda c: "/fhir/Patient/$export?_type=Observation", False)


@route("GET", "/fhir/Group/{group_id}/$export")
def _group_export(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        group_key = f"Group/{pid}-group"
        url = f"/fhir/{group_key}/$export?_type=Observation"
        if mx.secondary_use(user):  # a group can be one person: secondary use exports everyone or nobody
            seq = place.last_seq()
            response = place.api(user, "GET", url, headers={"prefer": "respond-async"})
            refused_to_secondary_use(expect, response, place.audit_since(seq), user, "export")
            continue
        if not mx.visible(user, mx.entry_of(group_key)):
            seq = place.last_seq()
            response = place.api(user, "GET", url, headers={"prefer": "respond-async"})
            # The gate looks the group up as the user before the job starts (a group it may not see is not found,
            # decision 0301): nothing is exported and no job is made.
            expect(response.status_code == 404, f"kick-off status {response.status_code}, expected 404")
            no_leak(expect, user, response.text)
            audited(expect, place.audit_since(seq), user, {"export"}, "success")
            continue
        _export_cell(place, expect, user, url, mx.visible_keys(user, "Observation", pid), cell)


def _export_cell(
    place: Place, expect: Callable[[bool, str], None], user: mx.User, url: str, wanted: set[str], cell: Cell
) -> None:
    key = (user.user, url)
    if key not in place.exports:
        seq = place.last_seq()
        status, status_path, found = _export(place, user, url)
        place.exports[key] = (status_path, found)
        expect(status == 202, f"kick-off status {status}")
        audited(expect, place.audit_since(seq), user, {"export"}, "success")
    found = place.exports[key][1]
    expect(found == wanted, f"exported {sorted(found - wanted)} more, {sorted(wanted - found)} fewer")
    expect((cell.target_key in found) == cell.sees_target, "the cell's resource is wrongly exported or not")


def _someone_elses_job(place: Place) -> tuple[str, str]:
    """A finished export of the system user's: (status path, one file's path)."""
    system = mx.user_for("system", mx.SUBJECTS[0])
    response = place.api(system, "GET", "/fhir/$export?_type=Observation", headers={"prefer": "respond-async"})
    status_path = response.headers["content-location"].split("/fhir", 1)[1]
    for _ in range(200):
        status = place.api(system, "GET", f"/fhir{status_path}")
        if status.status_code != 202:
            break
        time.sleep(0.05)
    file_path = "/" + status.json()["output"][0]["url"].split("/fhir/", 1)[1]
    return status_path, file_path


def _job_cells(place: Place, check: Check, method: str, path_of: Callable[[str, str], str], own: int) -> None:
    """Export jobs answer their requester only (the system user started this one): `own` for the system, 404 for
    everyone else, whoever and whatever the cell."""
    job = _someone_elses_job(place)
    for cell in CELLS:
        expect = check.cell(cell)
        if method == "DELETE" and cell.role == "system":
            job = _someone_elses_job(place)  # each cancelling cell cancels a job of its own
        response = place.api(cell.user, method, f"/fhir{path_of(*job)}")
        wanted = own if cell.role == "system" else 404
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        if wanted == 404:
            no_leak(expect, cell.user, response.text)


@route("GET", "/fhir/$export-status/{job_id}")
def _export_status(place: Place, check: Check, _: tuple[str, str]) -> None:
    _job_cells(place, check, "GET", lambda status, file: status, 200)


@route("GET", "/fhir/$export-files/{job_id}/{name}")
def _export_files(place: Place, check: Check, _: tuple[str, str]) -> None:
    _job_cells(place, check, "GET", lambda status, file: file, 200)


@route("DELETE", "/fhir/$export-status/{job_id}", kind="write")
def _export_cancel(place: Place, check: Check, _: tuple[str, str]) -> None:
    _job_cells(place, check, "DELETE", lambda status, file: status, 202)


# --- FHIR writes (on copies, in the writes place), on several resource types --------------------------------------
def as_type(observation: dict[str, Any], resource_type: str, new_id: str) -> dict[str, Any]:
    """A resource of resource_type with the Observation's person, author and labels (so who may see it is decided
    exactly as for the Observation)."""
    made: dict[str, Any] = {
        "resourceType": resource_type,
        "id": new_id,
        "meta": mx.copy_of(observation, new_id)["meta"],
    }
    person = observation["subject"]
    if resource_type == "Observation":
        return mx.copy_of(observation, new_id)
    if resource_type == "Condition":
        return {**made, "subject": person, "code": observation["code"], "recordedDate": "2025-03-01"}
    if resource_type == "CarePlan":
        return {**made, "status": "active", "intent": "plan", "subject": person, "title": "Matrix plan"}
    return {**made, "status": "active", "patient": person, "period": {"start": "2025-03-01"}}  # EpisodeOfCare


# The change each update makes, and how to see it was made.
CHANGES = {
    "Observation": ("status", "amended"),
    "Condition": ("recordedDate", "2025-04-01"),
    "CarePlan": ("status", "on-hold"),
    "EpisodeOfCare": ("status", "onhold"),
}
WRITE_TYPES = tuple(WRITE_CAPABILITIES)


def _copy(place: Place, cell: Cell, resource_type: str = "Observation") -> str:
    """A copy of the cell's Observation as resource_type (same person, author and labels), written by the system."""
    new_id = f"{cell.target}-{uuid.uuid4().hex[:10]}"
    made = as_type(mx.entry_of(cell.target_key).resource, resource_type, new_id)
    place.store.update(SYSTEM, resource_type, new_id, made)
    return new_id


def _unrestricted(cell: Cell) -> bool:
    return holds(cell.role, "record.read.unrestricted")


@route("POST", "/fhir/{resource_type}", kind="write")
def _create(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        for resource_type in WRITE_TYPES:
            expect = check.cell(f"{cell}, {resource_type}")
            body = as_type(mx.entry_of(cell.target_key).resource, resource_type, "ignored")
            del body["id"]
            seq = place.last_seq()
            response = place.api(cell.user, "POST", f"/fhir/{resource_type}", content=orjson.dumps(body),
                                 headers=FHIR_JSON)  # fmt: skip
            creates = may_write(cell.role, resource_type) and (cell.sees_patient or _unrestricted(cell))
            wanted = 201 if creates else 403
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            audited(expect, place.audit_since(seq), cell.user, {"create"}, "success" if creates else "failure")
            if not creates:  # a created resource is echoed back: it is what the caller sent
                no_leak(expect, cell.user, response.text)


def rotated_type(cell: Cell) -> str:
    """The type a cell's update, patch or delete writes: each (relationship, objection) pair of a role gets one of
    the four, with both sensitivities, so every role writes every type where it sees the resource and where it
    does not (creating, which needs no copy first, runs every type in every cell)."""
    return WRITE_TYPES[int(cell.related) * 2 + int(cell.objected)]


def _existing_write(place: Place, check: Check, method: str, action: str) -> None:
    for cell in CELLS:
        for resource_type in (rotated_type(cell),):
            expect = check.cell(f"{cell}, {resource_type}")
            copy = _copy(place, cell, resource_type)
            field_name, value = CHANGES[resource_type]
            resource = as_type(mx.entry_of(cell.target_key).resource, resource_type, copy)
            if method == "PUT":
                body = orjson.dumps({**resource, field_name: value})
                kwargs: dict[str, Any] = {"content": body, "headers": FHIR_JSON}
            elif method == "PATCH":
                patch = [{"op": "add", "path": f"/{field_name}", "value": value}]
                kwargs = {"content": orjson.dumps(patch), "headers": {"content-type": "application/json-patch+json"}}
            else:
                kwargs = {}
            seq = place.last_seq()
            response = place.api(cell.user, method, f"/fhir/{resource_type}/{copy}", **kwargs)
            if not may_write(cell.role, resource_type):
                wanted = 403
            elif not cell.sees_target:
                wanted = 404
            elif method == "PUT" and not (cell.sees_patient or _unrestricted(cell)):
                wanted = 403
            else:
                wanted = 204 if method == "DELETE" else 200
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            audited(expect, place.audit_since(seq), cell.user, {action}, "success" if wanted < 300 else "failure")
            no_leak(expect, cell.user, response.text)
            after = place.store.read(SYSTEM, resource_type, copy) if method != "DELETE" or wanted != 204 else None
            if after is not None:
                changed = after.content.get(field_name) == value
                expect(changed == (wanted == 200), "changed by a refused write" if changed else "not changed")


@route("PUT", "/fhir/{resource_type}/{resource_id}", kind="write")
def _update(place: Place, check: Check, _: tuple[str, str]) -> None:
    _existing_write(place, check, "PUT", "update")


@route("PATCH", "/fhir/{resource_type}/{resource_id}", kind="write")
def _patch(place: Place, check: Check, _: tuple[str, str]) -> None:
    _existing_write(place, check, "PATCH", "update")


@route("DELETE", "/fhir/{resource_type}/{resource_id}", kind="write")
def _delete(place: Place, check: Check, _: tuple[str, str]) -> None:
    _existing_write(place, check, "DELETE", "delete")


def _conditional(place: Place, check: Check, method: str, action: str) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        copy = _copy(place, cell)
        resource = {**mx.copy_of(mx.entry_of(cell.target_key).resource, copy), "status": "amended"}
        kwargs: dict[str, Any] = {"content": orjson.dumps(resource), "headers": FHIR_JSON} if method == "PUT" else {}
        seq = place.last_seq()
        response = place.api(cell.user, method, f"/fhir/Observation?_id={copy}", **kwargs)
        wanted = (200 if method == "PUT" else 204) if _unrestricted(cell) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        audited(expect, place.audit_since(seq), cell.user, {action}, "success" if wanted < 300 else "failure")
        no_leak(expect, cell.user, response.text)


@route("PUT", "/fhir/{resource_type}", kind="write")
def _conditional_update(place: Place, check: Check, _: tuple[str, str]) -> None:
    _conditional(place, check, "PUT", "update")


@route("DELETE", "/fhir/{resource_type}", kind="write")
def _conditional_delete(place: Place, check: Check, _: tuple[str, str]) -> None:
    _conditional(place, check, "DELETE", "delete")


def _bundle(place: Place, check: Check, path: str) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        copy = f"{cell.target}-b{uuid.uuid4().hex[:8]}"
        resource = mx.copy_of(mx.entry_of(cell.target_key).resource, copy)
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": resource, "request": {"method": "PUT", "url": f"Observation/{copy}"}},
            {"request": {"method": "GET", "url": f"Observation/{cell.target}"}}]}  # fmt: skip
        seq = place.last_seq()
        response = place.api(cell.user, "POST", path, content=orjson.dumps(bundle), headers=FHIR_JSON)
        wanted = 200 if _unrestricted(cell) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        audited(expect, place.audit_since(seq), cell.user, {"batch"}, "success" if wanted == 200 else "failure")
        if wanted == 403:
            no_leak(expect, cell.user, response.text)


@route("POST", "/fhir", kind="write")
def _bundle_bare(place: Place, check: Check, _: tuple[str, str]) -> None:
    _bundle(place, check, "/fhir")


@route("POST", "/fhir/", kind="write")
def _bundle_slash(place: Place, check: Check, _: tuple[str, str]) -> None:
    _bundle(place, check, "/fhir/")


# --- the person index's operations, on real Person, Patient and Task ids (in the writes place) -------------------
def _pair(cell: Cell) -> list[str]:
    """The two records a cell's decision is about: the person's record, and their second record of the cell's
    sensitivity (plain: the acute trust's; sensitive: the sexual health clinic's, labelled so)."""
    return [cell.subject.patient_id, cell.subject.second_record(cell.kind)]


def _open_review(place: Place, records: list[str]) -> str:
    """The review Task for these two records, (re)opened by the system: its id is derived from the pair."""
    item = ReviewItem(review_id(*records), records[0], records[1], Method.PROBABILISTIC, 0.5, "Matrix review")
    IndexStore(place.gate.for_system(INDEX_PURPOSE)).write([task_resource(item, "2025-03-01T00:00:00+00:00")])
    return item.id


def _fresh_persons(place: Place, *groups: list[str]) -> list[str]:
    """New active Persons, one per group of records, after retiring every Person that linked any of them."""
    index = IndexStore(place.gate.for_system(INDEX_PURPOSE))
    for record in {r for group in groups for r in group}:
        while (found := index.person_of(record)) is not None:
            index.write([person_resource(PersonState(found.id, {}, active=False))])
    made = [f"mx-person-{uuid.uuid4().hex[:12]}" for _ in groups]
    pairs = zip(made, groups, strict=True)
    states = [PersonState(pid, dict.fromkeys(group, Assurance.CONFIRMED)) for pid, group in pairs]
    index.write([person_resource(state) for state in states])
    return made


def _task_status(place: Place, task_id: str) -> str:
    found = place.store.read(SYSTEM, "Task", task_id)
    return str(found.content["status"]) if found is not None else "missing"


def _parameters(name: str, reference: str) -> bytes:
    return orjson.dumps({"resourceType": "Parameters", "parameter": [{"name": name, "valueReference": {
        "reference": reference}}]})  # fmt: skip


def _decision_cells(place: Place, check: Check, operation: str) -> None:
    """Accept or reject a review of the person's two records: the rule over both records."""
    done_status = ReviewStatus.ACCEPTED.value if operation == "accept" else ReviewStatus.REJECTED.value
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        _fresh_persons(place, [records[0]], [records[1]])
        task = _open_review(place, records)
        response = place.api(cell.user, "POST", f"/fhir/Task/{task}/${operation}-link")
        wanted = link_decision(cell, records, 200)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        status = _task_status(place, task)
        wanted_status = done_status if wanted == 200 else ReviewStatus.OPEN.value
        expect(status == wanted_status, f"the review is {status}, expected {wanted_status}")
        no_leak(expect, cell.user, response.text)


@route("POST", "/fhir/Task/{task_id}/$accept-link", kind="write")
def _accept_link(place: Place, check: Check, _: tuple[str, str]) -> None:
    _decision_cells(place, check, "accept")


@route("POST", "/fhir/Task/{task_id}/$reject-link", kind="write")
def _reject_link(place: Place, check: Check, _: tuple[str, str]) -> None:
    _decision_cells(place, check, "reject")


@route("POST", "/fhir/Person/{person_id}/$merge", kind="write")
def _merge(place: Place, check: Check, _: tuple[str, str]) -> None:
    """Merge the Person of the second record into the Person of the first: the rule over both records."""
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        keep, other = _fresh_persons(place, [records[0]], [records[1]])
        response = place.api(cell.user, "POST", f"/fhir/Person/{keep}/$merge",
                             content=_parameters("other", f"Person/{other}"), headers=FHIR_JSON)  # fmt: skip
        wanted = link_decision(cell, records, 200)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        merged = IndexStore(place.gate.for_system(INDEX_PURPOSE)).person_of(records[1])
        expect((merged is not None and merged.id == keep) == (wanted == 200), "merged by a refused merge"
               if wanted != 200 else "not merged")  # fmt: skip
        no_leak(expect, cell.user, response.text)


@route("POST", "/fhir/Person/{person_id}/$unmerge", kind="write")
def _unmerge(place: Place, check: Check, _: tuple[str, str]) -> None:
    """Take the second record out of a Person holding both: the rule over the record taken out (the only one the
    reviewer decides about: the rest stay as they were)."""
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        (person,) = _fresh_persons(place, records)
        response = place.api(cell.user, "POST", f"/fhir/Person/{person}/$unmerge",
                             content=_parameters("patient", f"Patient/{records[1]}"), headers=FHIR_JSON)  # fmt: skip
        wanted = link_decision(cell, records[1:], 200)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        left = IndexStore(place.gate.for_system(INDEX_PURPOSE)).person_of(records[1])
        expect((left is not None and left.id != person) == (wanted == 200), "unmerged by a refused unmerge"
               if wanted != 200 else "not unmerged")  # fmt: skip
        no_leak(expect, cell.user, response.text)


def _open_every_review(place: Place) -> dict[str, list[str]]:
    """Every subject's two reviews, open: task id -> the two records."""
    pairs = [[s.patient_id, s.second_record(k)] for s in mx.SUBJECTS for k in mx.SECOND_KINDS]
    return {_open_review(place, pair): pair for pair in pairs}


def reviews_listed(user: mx.User, pair: list[str]) -> bool:
    """Whether the review of this pair of records is listed to the user. A reviewer (person-index.link) is listed
    the reviews whose two records they may see, as the review pages show them. Anyone else gets their own search
    of the Tasks: a review names its records as Task.input, which is no reference to a person in the record, so it
    concerns nobody: unrestricted and secondary use see it (no objection or label holds it back), direct care and
    a resident's own record do not."""
    if holds(user.role, LINK_CAPABILITY):
        return all(sees(user, record) for record in pair)
    return holds(user.role, "record.read.unrestricted") or mx.secondary_use(user)


@route("GET", "/identity/api/reviews", kind="write")
def _reviews(place: Place, check: Check, _: tuple[str, str]) -> None:
    tasks = _open_every_review(place)
    for cell in CELLS:
        expect = check.cell(cell)
        response = place.api(cell.user, "GET", "/identity/api/reviews")
        expect(response.status_code == 200, f"status {response.status_code}, expected 200")
        if response.status_code == 200:
            listed = len(response.json())  # the place's only reviews are these (secondary use sees pseudonyms)
            wanted = sum(reviews_listed(cell.user, pair) for pair in tasks.values())
            expect(listed == wanted, f"lists {listed} reviews, expected {wanted}")
        no_leak(expect, cell.user, response.text)


@route("GET", "/identity/api/reviews/{task_id}", kind="write")
def _review(place: Place, check: Check, _: tuple[str, str]) -> None:
    """One review with both records: each shown only if the user may see it; secondary use is refused (it names
    people)."""
    _open_every_review(place)
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        response = place.api(cell.user, "GET", f"/identity/api/reviews/{review_id(*records)}")
        wanted = 403 if mx.secondary_use(cell.user) else 200
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        if response.status_code == 200 == wanted:
            body = response.json()
            shown = [body["record"]["visible"], (body.get("candidate") or {}).get("visible")]
            expected = [sees(cell.user, record) for record in records]
            expect(shown == expected, f"records shown {shown}, expected {expected}")
        no_leak(expect, cell.user, response.text)


# --- routes that concern nobody: one answer for every cell, and nothing personal in it ---------------------------
TOKEN_REQUEST = {"grant_type": "client_credentials", "client_id": "mx-none", "client_secret": "wrong"}
PUBLIC: dict[tuple[str, str], tuple[bool, int, dict[str, Any]]] = {  # route: (a page?, status, request)
    ("GET", "/api/openapi.json"): (False, 200, {}),
    ("GET", "/api/docs"): (False, 200, {}),
    ("GET", "/healthz"): (False, 200, {}),
    ("GET", "/fhir/metadata"): (False, 200, {}),
    ("GET", "/fhir/.well-known/smart-configuration"): (False, 200, {}),
    ("GET", "/.well-known/smart-configuration"): (False, 200, {}),
    ("GET", "/auth/authorize"): (True, 400, {"params": {"client_id": "mx-none", "response_type": "code"}}),
    ("POST", "/auth/authorize"): (True, 400, {"data": {"client_id": "mx-none"}}),
    ("POST", "/auth/token"): (False, 401, {"data": TOKEN_REQUEST}),
    ("GET", "/sign-in"): (True, 200, {}),
    ("POST", "/sign-in"): (True, 400, {"data": {"username": "mx-nobody", "password": "wrong", "csrf": CSRF}}),
    ("GET", "/sign-in/oidc"): (True, 404, {}),
    ("GET", "/sign-in/oidc/callback"): (True, 404, {"params": {"state": "mx", "code": "mx"}}),
}


def _public_route(key: tuple[str, str]) -> None:
    web, wanted, kwargs = PUBLIC[key]
    method, path = key

    def check(place: Place, c: Check, _: tuple[str, str]) -> None:
        for cell in CELLS:
            expect = c.cell(cell)
            seq = place.last_seq()
            response, _entries = place.once(cell.user, "page" if web else "api", method, path, **kwargs)
            expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
            # the development sign-in page lists the demo users (a resident among them): development and test only
            no_leak(expect, cell.user, response.text, names=not path.startswith("/sign-in"))
            personal = [e for e in place.audit_since(seq) if e.patients and e.user == cell.user.user]
            expect(not personal, f"touched people's records: {[e.action for e in personal]}")

    ROUTE_CHECKS[key] = check


for _key in PUBLIC:
    _public_route(_key)


@route("POST", "/sign-out", kind="write")
def _sign_out(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "POST", "/sign-out", data={"csrf": CSRF})
        expect(response.status_code == 303, f"status {response.status_code}, expected 303")
        place.cookies.pop(f"{cell.user.role}:{cell.user.user}", None)  # that session has ended


# --- the pages ---------------------------------------------------------------------------------------------------
@route("GET", "/record/{patient_id}")
def _record_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        response, entries = place.once(user, "page", "GET", f"/record/{pid}")
        no_leak(expect, user, response.text)
        if user.resident_of is not None and user.resident_of != pid:
            expect(response.status_code == 403, f"a resident opening another's record: {response.status_code}")
            continue
        if cell.sees_patient:
            expect(response.status_code == 200, f"status {response.status_code}, expected 200")
            shown = markers_in(response.text)
            wanted = mx.visible_keys(user, "Observation", pid)
            expect(shown == wanted, f"shows {sorted(shown)}, not {sorted(wanted)}")
            audited(expect, entries, user, {"everything", "search", "read"}, "success", pid)
        else:
            expect(response.status_code == 404, f"status {response.status_code}, expected 404")
            expect(not markers_in(response.text), "a record not available shows its content")
            audited(expect, entries, user, {"everything", "read", "search"}, "failure")


@route("GET", "/")
def _home(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", "/")
        expect(response.status_code == 200, f"status {response.status_code}, expected 200")
        no_leak(expect, cell.user, response.text)


@route("GET", "/search")
def _search_form(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", "/search")
        wanted = 403 if holds(cell.role, "own-record.read") else 200
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")


@route("POST", "/search")
def _person_search(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        user, who = cell.user, cell.subject
        born = {"birth_day": "1", "birth_month": "1", "birth_year": "1950"}
        response, entries = place.once(user, "page", "POST", "/search", data={"name": who.family, **born})
        no_leak(expect, user, response.text.replace(f'value="{who.family}"', ""))  # the name they typed
        if user.resident_of:
            expect(response.status_code == 403, f"a resident searching: {response.status_code}")
            continue
        expect(response.status_code == 200, f"status {response.status_code}")
        found = {f"Patient/{s.patient_id}" for s in mx.SUBJECTS if f"/record/{s.patient_id}" in response.text}
        wanted = {f"Patient/{who.patient_id}"} if cell.sees_patient else set()
        expect(found == wanted, f"found {sorted(found)}, not {sorted(wanted)}")
        audited(expect, entries, user, {"search"}, "success")


def _capable(place: Place, check: Check, key: tuple[str, str]) -> None:
    """A page gated by capability alone: 200 with it, 403 without, whatever the cell; nothing it may not see."""
    method, path = key
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", method, path)
        wanted = 200 if holds(cell.role, *PAGE_CAPABILITIES[key]) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)


for _key in ("/ig/break-glass", "/ig/unusual-access", "/ig/audit", "/ig/subject-access", "/my-access-log"):
    ROUTE_CHECKS[("GET", _key)] = _capable


@route("POST", "/ig/subject-access")
def _subject_access(place: Place, check: Check, _: tuple[str, str]) -> None:
    """The IG manager gets the person's whole record (sensitive and objected parts too: it is theirs) and their
    access log; nobody else gets anything. Either way it is audited."""
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        logged = len(place.gate.audit.about_patient(pid, 100_000))
        seq = place.last_seq()
        response = place.page(user, "POST", "/ig/subject-access", data={"patient_id": pid, "csrf": CSRF})
        if not catalogue().get(cell.role).may("subject-access.assemble"):
            expect(response.status_code == 403, f"status {response.status_code}, expected 403")
            no_leak(expect, user, response.text)
            audited(expect, place.audit_since(seq), user, {"subject-access"}, "failure", pid)
            continue
        expect(response.status_code == 200, f"status {response.status_code}, expected 200")
        if response.status_code != 200:
            continue
        resources = [e["resource"] for e in response.json()["entry"]]
        record = {f"{r['resourceType']}/{r['id']}" for r in resources if r["resourceType"] != "AuditEvent"}
        wanted = {e.key for e in mx.entries() if e.patient == pid}
        personal = {k for k in record if mx.entry_of(k).patient is not None}
        expect(personal == wanted, f"record has {sorted(personal - wanted)} more, {sorted(wanted - personal)} fewer")
        events = [r for r in resources if r["resourceType"] == "AuditEvent"]
        expect(len(events) == logged, f"{len(events)} AuditEvents for {logged} entries about the person")
        audited(expect, place.audit_since(seq), user, {"subject-access"}, "success", pid)


@route("POST", "/ig/break-glass/{grant_id}/review", kind="write")
def _break_glass_review(place: Place, check: Check, _: tuple[str, str]) -> None:
    """Reviewing a real grant (opened by a GP outside the matrix, so nobody's view changes): 303 and reviewed with
    break-glass.review, 403 and still awaiting review without."""
    opener = AccessContext(user="PractitionerRole/mx-glass-opener", role="gp", organisation=None)
    for cell in CELLS:
        expect = check.cell(cell)
        grant = place.gate.break_glass.open(opener, cell.subject.patient_id, "Matrix: unconscious, no history")
        response = place.page(cell.user, "POST", f"/ig/break-glass/{grant.grant_id}/review",
                              data={"csrf": CSRF, "note": "Matrix review"})  # fmt: skip
        wanted = 303 if holds(cell.role, "break-glass.review") else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        awaiting = {g.grant_id for g in place.gate.break_glass.awaiting_review(100_000)}
        expect((grant.grant_id in awaiting) == (wanted != 303), "the grant's review state is wrong")
        no_leak(expect, cell.user, response.text)


# --- the population pages, on the refreshed place ----------------------------------------------------------------
def _case_finding(place: Place) -> tuple[list[str], set[str]]:
    """The refresh's case-finding keys (ZS1, in rank order), and every person key the refresh left out."""
    con = duckdb.connect(str(place.population_db), read_only=True)
    try:
        ranked = "SELECT person_id FROM case_finding ORDER BY neighbourhood, rank"
        listed = [r[0] for r in con.execute(ranked).fetchall()]
        withheld = {r[0] for r in con.execute("SELECT person_id FROM secondary_use_objector").fetchall()}
    finally:
        con.close()
    return listed, withheld


def _population(place: Place, check: Check, key: tuple[str, str]) -> None:
    """200 for secondary use and caseload roles, 403 for everyone else, whatever the cell. The aggregates name no
    person; the case-finding list and its CSV list exactly the refresh's keys; nobody who objected (the matrix's
    objecting people and the population's opt-outs) appears anywhere."""
    listed, withheld = _case_finding(place)
    assert listed and len(withheld) >= 2, "the refreshed place lists nobody, or withheld nobody"
    method, path = key
    url = path + ("?neighbourhood=ZS1" if path == "/population/case-finding" else "")
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", method, url)
        wanted = 200 if holds(cell.role, *PAGE_CAPABILITIES[key]) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)
        shown = set(re.findall(r"\b(?:nhs|rec)-[0-9a-z-]+", response.text))
        expect(not shown & withheld, f"shows {len(shown & withheld)} people who objected")
        if wanted != 200:
            continue
        if path == "/population/case-finding.csv":
            keys = [line.split(",")[2] for line in response.text.splitlines()[1:]]
            expect(keys == listed, f"the download lists {keys}, not {listed}")
        elif path == "/population/case-finding":
            expect(shown == set(listed), f"the list shows {sorted(shown)}, not {sorted(listed)}")
        else:
            expect(not shown, "an aggregate page names a person")


for _path in ("/population", "/population/shares", "/population/trends", "/population/case-finding",
              "/population/case-finding.csv"):  # fmt: skip
    ROUTE_CHECKS[("GET", _path)] = _population


# --- the person index's review pages ------------------------------------------------------------------------------
@route("GET", "/identity/review", kind="write")
def _review_queue(place: Place, check: Check, _: tuple[str, str]) -> None:
    """The queue: 403 without person-index.link; otherwise exactly the reviews whose two records the user may see."""
    tasks = _open_every_review(place)
    for cell in CELLS:
        expect = check.cell(cell)
        response, _entries = place.once(cell.user, "page", "GET", "/identity/review")
        wanted = 200 if holds(cell.role, LINK_CAPABILITY) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)
        if wanted == 200:
            shown = {t for t in tasks if f"/identity/review/{t}" in response.text}
            visible = {t for t, pair in tasks.items() if all(sees(cell.user, r) for r in pair)}
            expect(shown == visible, f"lists {len(shown)} reviews, expected {len(visible)}")


@route("GET", "/identity/review/{task_id}", kind="write")
def _review_page(place: Place, check: Check, _: tuple[str, str]) -> None:
    _open_every_review(place)
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        response = place.page(cell.user, "GET", f"/identity/review/{review_id(*records)}")
        wanted = link_decision(cell, records, 200)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)


@route("POST", "/identity/review/{task_id}", kind="write")
def _review_decision(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        records = _pair(cell)
        _fresh_persons(place, [records[0]], [records[1]])
        task = _open_review(place, records)
        response = place.page(cell.user, "POST", f"/identity/review/{task}", data={"decision": "reject", "csrf": CSRF})
        wanted = link_decision(cell, records, 303)
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        status = _task_status(place, task)
        wanted_status = ReviewStatus.REJECTED.value if wanted == 303 else ReviewStatus.OPEN.value
        expect(status == wanted_status, f"the review is {status}, expected {wanted_status}")
        no_leak(expect, cell.user, response.text)


@route("POST", "/record/{patient_id}/break-glass", kind="fresh")
def _break_glass(place: Place, check: Check, _: tuple[str, str]) -> None:
    """Break-glass opens a person without a relationship (objection overridden, sensitivity not), and only for roles
    that may use it; afterwards the API shows exactly that."""
    for cell in CELLS:
        expect = check.cell(cell)
        user, pid = cell.user, cell.subject.patient_id
        reason = "Unconscious in the emergency department, no history available"
        seq = place.last_seq()
        response = place.page(user, "POST", f"/record/{pid}/break-glass", data={"reason": reason, "csrf": CSRF})
        held = catalogue().get(cell.role)
        if not held.may("break-glass"):
            expect(response.status_code == 403, f"status {response.status_code}, expected 403")
            audited(expect, place.audit_since(seq), user, {"break-glass"}, "failure", pid)
            continue
        expect(response.status_code == 303, f"status {response.status_code}, expected 303")
        audited(expect, place.audit_since(seq), user, {"break-glass"}, "success", pid)
        entry = mx.entry_of(cell.target_key)
        own = entry.author == mx._own_code(user)
        opened = own or entry.categories <= held.sensitive
        read = place.api(user, "GET", f"/fhir/Observation/{cell.target}")
        expect(read.status_code == (200 if opened else 404), f"after break-glass: status {read.status_code}")


# Care coordination's routes register their cells from their own modules (tests/access/matrix_care/).
from . import matrix_care  # noqa: E402,F401


# --- the tests ---------------------------------------------------------------------------------------------------
def test_every_route_has_cells(app_routes: list[tuple[str, str]]) -> None:
    """A route of the application without cells fails the build: add its cells to this file."""
    missing = [r for r in app_routes if r not in ROUTE_CHECKS]
    assert not missing, f"routes with no matrix cells: {missing}"
    stale = [r for r in ROUTE_CHECKS if r not in app_routes]
    assert not stale, f"cells for routes the application no longer has: {stale}"


def _run_route(place: Place, key: tuple[str, str]) -> None:
    """Every cell of one route on the place, each failing cell reported."""
    check = Check()
    ROUTE_CHECKS[key](place, check, key)
    check.done(key)


# The routes with cells, in a stable order; test_every_route_has_cells holds them equal to the app's own table
# (read in a fixture, so that collecting the tests builds no app and writes nothing).
CHECKED = sorted(ROUTE_CHECKS, key=lambda pair: (pair[1], pair[0]))
READ_ROUTES = [r for r in CHECKED if r not in WRITE_ROUTES | FRESH_ROUTES]


@pytest.mark.parametrize("key", READ_ROUTES, ids=[f"{m} {p}" for m, p in READ_ROUTES])
def test_read_route(reads: Place, key: tuple[str, str]) -> None:
    _run_route(reads, key)


WRITES = [r for r in CHECKED if r in WRITE_ROUTES]


@pytest.mark.parametrize("key", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_route(writes: Place, key: tuple[str, str]) -> None:
    _run_route(writes, key)


FRESH = [r for r in CHECKED if r in FRESH_ROUTES]


@pytest.mark.parametrize("key", FRESH, ids=[f"{m} {p}" for m, p in FRESH])
def test_fresh_route(fresh: Place, key: tuple[str, str]) -> None:
    _run_route(fresh, key)
