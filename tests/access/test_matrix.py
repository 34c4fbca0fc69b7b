"""The access matrix (issue 5, "Proof"): every route of the application's own route table × every role in
roles.json × with and without a relationship × with and without an objection × sensitive and not.

Each cell makes the request as that role's user and asserts exactly what comes back against the oracle
(test_matrix_place.py): the ids (no more, no less), the status, `_total`, that a withheld resource never appears in
includes, history, errors or exports, and that the access was audited. Routes are read from `app.routes`; a route
with no cells fails `test_every_route_has_cells`, so a new route cannot slip past the matrix. Design: decision 0320.

Reads share one place per database (loaded once per module); writes change copies in a second place, and
break-glass (which changes what its user sees from then on) gets a fresh place per database.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import uuid
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import itsdangerous
import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, insert, select

from joinedup.access.audit.trail import AuditEntry, now_micros
from joinedup.access.roles import catalogue
from joinedup.app import create_app
from joinedup.identity.review import may_decide_links
from joinedup.settings import Settings
from joinedup.store.context import SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.governance_schema import audit_log, oauth_tokens
from joinedup.web.csrf import CSRF_KEY
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
def route_table() -> list[tuple[str, str]]:
    """(method, path) of every route the application serves, read from the app itself (HEAD goes with GET)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(database_url=f"sqlite:///{folder}/routes.sqlite3", environment="test"))
        found = {
            (method, context.path)
            for context in iter_route_contexts(app.routes)
            for method in (getattr(context, "methods", None) or ())
            if method != "HEAD"
        }
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


ROUTES = route_table()


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
            response = self.client.request(method, url, follow_redirects=False, **kwargs)
            renewed = response.cookies.get(SESSION_COOKIE)
            if renewed:  # a privilege change (break-glass) renews the session, as a browser would keep the new one
                self.cookies[f"{user.role}:{user.user}"] = renewed
            return response
        finally:
            self.client.cookies.clear()


def _place(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Place]:
    for url in _database(request, tmp):
        store = FhirStore(make_engine(url))
        web_place.load(store, mx.resources())
        settings = Settings(database_url=url, environment="test", export_dir=tmp / "exports", session_secret=SECRET,
                            max_request_bytes=1024 * 1024)  # fmt: skip
        app = create_app(settings)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            yield Place(client, app, store, str(request.param))
        store.engine.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def reads(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    yield from _place(request, tmp_path_factory.mktemp("matrix-reads"))


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
ROLE_CELLS = [Cell(role, True, False, False) for role in mx.ROLES]  # routes that concern nobody: one per role


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
    return {f"Patient/{s.patient_id}" for s in mx.SUBJECTS if s.family in text}


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
            expect(body.get("total") in (None, len(got)), f"total {body.get('total')} for {len(got)} versions")
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
            status = response.status_code
            if status == 202:  # the kick-off cannot know yet: the job must then fail or export nothing
                _, _, found = _export_after(place, user, response)
                expect(not found, f"a hidden group's export wrote {sorted(found)}")
            else:
                expect(status == 404, f"status {status} for a group the user may not see")
            audited(expect, place.audit_since(seq), user, {"export"}, "success")
            continue
        _export_cell(place, expect, user, url, mx.visible_keys(user, "Observation", pid), cell)


def _export_after(place: Place, user: mx.User, response: Response) -> tuple[int, str, set[str]]:
    status_path = response.headers["content-location"].split("/fhir", 1)[1]
    for _ in range(200):
        status = place.api(user, "GET", f"/fhir{status_path}")
        if status.status_code != 202:
            break
        time.sleep(0.05)
    if status.status_code != 200:
        return status.status_code, status_path, set()
    found: set[str] = set()
    for output in status.json()["output"]:
        file = place.api(user, "GET", "/fhir" + output["url"].split("/fhir", 1)[1])
        found |= {f"{i['resourceType']}/{i['id']}" for i in map(orjson.loads, file.text.splitlines())}
    return 200, status_path, found


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


@route("GET", "/fhir/$export-status/{job_id}")
def _export_status(place: Place, check: Check, _: tuple[str, str]) -> None:
    status_path, _file = _someone_elses_job(place)
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.api(cell.user, "GET", f"/fhir{status_path}")
        if cell.role == "system":
            expect(response.status_code == 200, f"the requester's own job: status {response.status_code}")
        else:
            expect(response.status_code == 404, f"another user's export job answered {response.status_code}")
            no_leak(expect, cell.user, response.text)


@route("GET", "/fhir/$export-files/{job_id}/{name}")
def _export_files(place: Place, check: Check, _: tuple[str, str]) -> None:
    _status, file_path = _someone_elses_job(place)
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.api(cell.user, "GET", f"/fhir{file_path}")
        if cell.role == "system":
            expect(response.status_code == 200, f"the requester's own file: status {response.status_code}")
        else:
            expect(response.status_code == 404, f"another user's export file answered {response.status_code}")
            no_leak(expect, cell.user, response.text)


@route("DELETE", "/fhir/$export-status/{job_id}", kind="write")
def _export_cancel(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in ROLE_CELLS:
        status_path, _file = _someone_elses_job(place)
        expect = check.cell(cell)
        response = place.api(cell.user, "DELETE", f"/fhir{status_path}")
        if cell.role == "system":
            expect(response.status_code == 202, f"cancelling one's own job: status {response.status_code}")
        else:
            expect(response.status_code == 404, f"cancelling another user's job answered {response.status_code}")


# --- FHIR writes (on copies, in the writes place) ----------------------------------------------------------------
def _copy(place: Place, cell: Cell) -> str:
    """A copy of the cell's Observation (same person, author and labels), written by the system."""
    new_id = f"{cell.target}-{uuid.uuid4().hex[:10]}"
    place.store.update(SYSTEM, "Observation", new_id, mx.copy_of(mx.entry_of(cell.target_key).resource, new_id))
    return new_id


def _writer(cell: Cell) -> bool:
    return mx.may_write(cell.role, "Observation")


def _unrestricted(cell: Cell) -> bool:
    return catalogue().get(cell.role).may("record.read.unrestricted")


@route("POST", "/fhir/{resource_type}", kind="write")
def _create(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        body = mx.copy_of(mx.entry_of(cell.target_key).resource, "ignored")
        del body["id"]
        seq = place.last_seq()
        response = place.api(cell.user, "POST", "/fhir/Observation", content=orjson.dumps(body), headers=FHIR_JSON)
        wanted = 201 if _writer(cell) and (cell.sees_patient or _unrestricted(cell)) else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        audited(expect, place.audit_since(seq), cell.user, {"create"}, "success" if wanted == 201 else "failure")
        if wanted != 201:  # a created resource is echoed back: it is what the caller sent
            no_leak(expect, cell.user, response.text)


def _existing_write(place: Place, check: Check, method: str, action: str) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        copy = _copy(place, cell)
        sees = cell.sees_target
        resource = mx.copy_of(mx.entry_of(cell.target_key).resource, copy)
        if method == "PUT":
            kwargs: dict[str, Any] = {"content": orjson.dumps({**resource, "status": "amended"}), "headers": FHIR_JSON}
        elif method == "PATCH":
            patch = [{"op": "replace", "path": "/status", "value": "amended"}]
            kwargs = {"content": orjson.dumps(patch), "headers": {"content-type": "application/json-patch+json"}}
        else:
            kwargs = {}
        seq = place.last_seq()
        response = place.api(cell.user, method, f"/fhir/Observation/{copy}", **kwargs)
        if not _writer(cell):
            wanted = 403
        elif not sees:
            wanted = 404
        elif method == "PUT" and not (cell.sees_patient or _unrestricted(cell)):
            wanted = 403
        else:
            wanted = 204 if method == "DELETE" else 200
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        audited(expect, place.audit_since(seq), cell.user, {action}, "success" if wanted < 300 else "failure")
        no_leak(expect, cell.user, response.text)
        after = place.store.read(SYSTEM, "Observation", copy) if method != "DELETE" or wanted != 204 else None
        if after is not None:
            changed = after.content.get("status") == "amended"
            expect(changed == (wanted == 200), "the copy was changed by a refused write" if changed else "not changed")


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


# --- the person index's operations -------------------------------------------------------------------------------
def _identity_cells(place: Place, check: Check, method: str, url: str, body: dict[str, Any] | None) -> None:
    """No task or person of these ids exists: reviewers get 404 (or 400 for a body without the needed reference),
    read-only roles 403 — and nobody learns anything about the matrix's people."""
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        kwargs: dict[str, Any] = {"content": orjson.dumps(body), "headers": FHIR_JSON} if body is not None else {}
        response = place.api(cell.user, method, url, **kwargs)
        if not may_decide_links(cell.role) and method != "GET":
            # the body is checked before the role: a 400 for Parameters without the reference tells nothing
            wanted = (400, 403) if body == NO_PARAMETERS and "merge" in url else (403,)
            expect(response.status_code in wanted, f"status {response.status_code}, expected {wanted}")
        else:  # listing reviews goes through the gate: read-only roles see none (the place has none to see)
            expect(response.status_code in (200, 400, 404), f"status {response.status_code}")
        if method == "GET" and response.status_code == 200:
            expect(response.json() in ([], {"reviews": []}) or "mx-" not in response.text, "lists reviews")
        no_leak(expect, cell.user, response.text)


NO_PARAMETERS = {"resourceType": "Parameters", "parameter": []}


@route("POST", "/fhir/Task/{task_id}/$accept-link", kind="write")
def _accept_link(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "POST", "/fhir/Task/mx-no-task/$accept-link", NO_PARAMETERS)


@route("POST", "/fhir/Task/{task_id}/$reject-link", kind="write")
def _reject_link(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "POST", "/fhir/Task/mx-no-task/$reject-link", NO_PARAMETERS)


@route("POST", "/fhir/Person/{person_id}/$merge", kind="write")
def _merge(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "POST", "/fhir/Person/mx-no-person/$merge", NO_PARAMETERS)


@route("POST", "/fhir/Person/{person_id}/$unmerge", kind="write")
def _unmerge(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "POST", "/fhir/Person/mx-no-person/$unmerge", NO_PARAMETERS)


@route("GET", "/identity/api/reviews")
def _reviews(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "GET", "/identity/api/reviews", None)


@route("GET", "/identity/api/reviews/{task_id}")
def _review(place: Place, check: Check, _: tuple[str, str]) -> None:
    _identity_cells(place, check, "GET", "/identity/api/reviews/mx-no-task", None)


# --- routes that concern nobody: every role is answered alike, and nothing personal is in the answer -------------
def _alike(place: Place, check: Check, method: str, path: str, web: bool, **kwargs: Any) -> None:
    statuses: dict[str, int] = {}
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        seq = place.last_seq()
        call = place.page if web else place.api
        response = call(cell.user, method, path, **kwargs)
        if response.status_code != 429:  # the sign-in and token throttles count attempts, whoever makes them
            statuses[cell.role] = response.status_code
        expect(response.status_code < 500, f"status {response.status_code}")
        # the development sign-in page lists the demo users (a resident among them): development and test only
        no_leak(expect, cell.user, response.text, names=not path.startswith("/sign-in"))
        personal = [e for e in place.audit_since(seq) if e.patients and e.user == cell.user.user]
        expect(not personal, f"touched people's records: {[e.action for e in personal]}")
    expect = check.cell("every role")
    expect(len(set(statuses.values())) == 1, f"answered roles differently: {statuses}")


PUBLIC: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("GET", "/api/openapi.json", False, {}),
    ("GET", "/api/docs", False, {}),
    ("GET", "/docs/oauth2-redirect", False, {}),
    ("GET", "/redoc", False, {}),
    ("GET", "/healthz", False, {}),
    ("GET", "/fhir/metadata", False, {}),
    ("GET", "/fhir/.well-known/smart-configuration", False, {}),
    ("GET", "/.well-known/smart-configuration", False, {}),
    ("GET", "/auth/authorize", True, {"params": {"client_id": "mx-none", "response_type": "code"}}),
    ("POST", "/auth/authorize", True, {"data": {"client_id": "mx-none"}}),
    (
        "POST",
        "/auth/token",
        False,
        {"data": {"grant_type": "client_credentials", "client_id": "mx-none", "client_secret": "wrong"}},
    ),
    ("GET", "/sign-in", True, {}),
    ("POST", "/sign-in", True, {"data": {"username": "mx-nobody", "password": "wrong", "csrf": CSRF}}),
    ("GET", "/sign-in/oidc", True, {}),
    ("GET", "/sign-in/oidc/callback", True, {"params": {"state": "mx", "code": "mx"}}),
]


def _public_route(method: str, path: str, web: bool, kwargs: dict[str, Any]) -> None:
    def check(place: Place, c: Check, _: tuple[str, str]) -> None:
        _alike(place, c, method, path, web, **kwargs)

    ROUTE_CHECKS[(method, path)] = check


for _method, _path, _web, _kwargs in PUBLIC:
    _public_route(_method, _path, _web, _kwargs)


@route("POST", "/sign-out", kind="write")
def _sign_out(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "POST", "/sign-out", data={"csrf": CSRF})
        expect(response.status_code == 303, f"status {response.status_code}")
        place.cookies.pop(f"{cell.user.role}:{cell.user.user}", None)  # that session has ended


# --- the pages ---------------------------------------------------------------------------------------------------
def _page_denied(response: Response) -> bool:
    return response.status_code == 403


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
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "GET", "/")
        expect(response.status_code == 200, f"status {response.status_code}")
        no_leak(expect, cell.user, response.text)


@route("GET", "/search")
def _search_form(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "GET", "/search")
        wanted = 403 if cell.user.resident_of else 200
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


@route("GET", "/my-access-log")
def _access_log(place: Place, check: Check, _: tuple[str, str]) -> None:
    for cell in CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "GET", "/my-access-log")
        wanted = 200 if cell.user.resident_of else 403
        expect(response.status_code == wanted, f"status {response.status_code}, expected {wanted}")
        no_leak(expect, cell.user, response.text)


def _capable(capability: str) -> Callable[[Place, Check, tuple[str, str]], None]:
    def check(place: Place, c: Check, key: tuple[str, str]) -> None:
        method, path = key
        url = path.replace("{grant_id}", "mx-no-grant").replace("{task_id}", "mx-no-task")
        for cell in ROLE_CELLS:
            expect = c.cell(cell)
            data = {"csrf": CSRF, "note": "Matrix", "decision": "reject"} if method == "POST" else None
            response = place.page(cell.user, method, url, data=data)
            may = catalogue().get(cell.role).may(capability)
            if may:
                expect(response.status_code in (200, 303, 400, 404), f"status {response.status_code}")
            else:
                expect(response.status_code == 403, f"status {response.status_code}, expected 403")
            no_leak(expect, cell.user, response.text)

    return check


ROUTE_CHECKS[("GET", "/ig/break-glass")] = _capable("break-glass.review")
ROUTE_CHECKS[("GET", "/ig/unusual-access")] = _capable("audit.review")
ROUTE_CHECKS[("GET", "/ig/audit")] = _capable("audit.review")
ROUTE_CHECKS[("GET", "/ig/subject-access")] = _capable("subject-access.assemble")


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


ROUTE_CHECKS[("POST", "/ig/break-glass/{grant_id}/review")] = _capable("break-glass.review")


def _population(place: Place, check: Check, key: tuple[str, str]) -> None:
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, "GET", key[1])
        held = catalogue().get(cell.role)
        may = held.may("secondary-use.read") or held.may("caseload.manage")
        wanted = {200, 503} if may else {403}  # 503: the population refresh has not been run in this place
        expect(response.status_code in wanted, f"status {response.status_code}, expected {sorted(wanted)}")
        no_leak(expect, cell.user, response.text)


for _path in (
    "/population",
    "/population/shares",
    "/population/trends",
    "/population/case-finding",
    "/population/case-finding.csv",
):
    ROUTE_CHECKS[("GET", _path)] = _population


def _identity_pages(place: Place, check: Check, key: tuple[str, str]) -> None:
    method, path = key
    url = path.replace("{task_id}", "mx-no-task")
    for cell in ROLE_CELLS:
        expect = check.cell(cell)
        response = place.page(cell.user, method, url, data={"decision": "reject"} if method == "POST" else None)
        if not may_decide_links(cell.role):
            expect(response.status_code == 403, f"status {response.status_code}, expected 403")
        else:
            expect(response.status_code in (200, 303, 400, 404), f"status {response.status_code}")
        no_leak(expect, cell.user, response.text)


for _key in (
    ("GET", "/identity/review"),
    ("GET", "/identity/review/{task_id}"),
    ("POST", "/identity/review/{task_id}"),
):
    ROUTE_CHECKS[_key] = _identity_pages


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


# --- the tests ---------------------------------------------------------------------------------------------------
def test_every_route_has_cells() -> None:
    """A route of the application without cells fails the build: add its cells to this file."""
    missing = [r for r in ROUTES if r not in ROUTE_CHECKS]
    assert not missing, f"routes with no matrix cells: {missing}"
    stale = [r for r in ROUTE_CHECKS if r not in ROUTES]
    assert not stale, f"cells for routes the application no longer has: {stale}"


def _run_route(place: Place, key: tuple[str, str]) -> None:
    """Every cell of one route on the place, each failing cell reported."""
    check = Check()
    ROUTE_CHECKS[key](place, check, key)
    check.done(key)


READ_ROUTES = [r for r in ROUTES if r in ROUTE_CHECKS and r not in WRITE_ROUTES | FRESH_ROUTES]


@pytest.mark.parametrize("key", READ_ROUTES, ids=[f"{m} {p}" for m, p in READ_ROUTES])
def test_read_route(reads: Place, key: tuple[str, str]) -> None:
    _run_route(reads, key)


WRITES = [r for r in ROUTES if r in WRITE_ROUTES]


@pytest.mark.parametrize("key", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_route(writes: Place, key: tuple[str, str]) -> None:
    _run_route(writes, key)


FRESH = [r for r in ROUTES if r in FRESH_ROUTES]


@pytest.mark.parametrize("key", FRESH, ids=[f"{m} {p}" for m, p in FRESH])
def test_fresh_route(fresh: Place, key: tuple[str, str]) -> None:
    _run_route(fresh, key)
