"""Sign-in with accounts (Argon2, lock-out, TOTP, no enumeration, CSRF), break-glass, the resident's access log and
the IG manager's reviews, through the real app on both databases."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from ..web import place
from ..web.conftest import sign_in_as

PASSWORD = "correct horse battery staple"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def _account(web: TestClient, username: str, role: str = "gp", totp: str | None = None) -> None:
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate.accounts.create(
        username, PASSWORD, "Dr Test", f"PractitionerRole/role-{place.PRACTICE.code.lower()}-1", role,
        f"Organization/{place.PRACTICE.id}", place.PRACTICE.name, totp,
    )  # fmt: skip


def _sign_in(web: TestClient, username: str, password: str, code: str = "") -> int:
    token = _csrf(web.get("/sign-in").text)
    data = {"username": username, "password": password, "code": code, "csrf": token, "next": "/"}
    return web.post("/sign-in", data=data, follow_redirects=False).status_code


def test_account_sign_in_with_argon2_and_no_user_enumeration(web: TestClient) -> None:
    _account(web, "Dr.Test@Riverside")
    unknown = web.post(
        "/sign-in", data={"username": "nobody", "password": "x" * 12, "csrf": _csrf(web.get("/sign-in").text)}
    )
    wrong = web.post(
        "/sign-in",
        data={"username": "dr.test@riverside", "password": "x" * 12, "csrf": _csrf(web.get("/sign-in").text)},
    )
    assert unknown.status_code == wrong.status_code == 400
    message = "The username, password or security code is not right"
    assert message in unknown.text and message in wrong.text
    assert _sign_in(web, "dr.test@riverside", PASSWORD) == 303
    assert "GP, Riverside Surgery" in web.get("/").text
    hashed = web.app.state.services.gate.accounts  # type: ignore[attr-defined]
    assert hashed is not None
    entries = web.app.state.services.gate.audit.entries(actions=["sign-in", "sign-in-failed"])  # type: ignore[attr-defined]
    assert [e.action for e in entries][-3:] == ["sign-in-failed", "sign-in-failed", "sign-in"]


def test_lock_out_after_repeated_failures(web: TestClient) -> None:
    _account(web, "locked")
    for _ in range(5):
        assert _sign_in(web, "locked", "wrong password!") == 400
    assert _sign_in(web, "locked", PASSWORD) == 400  # right password, but locked for a while


def test_totp_second_factor(web: TestClient) -> None:
    secret = pyotp.random_base32()
    _account(web, "two-factor", totp=secret)
    assert _sign_in(web, "two-factor", PASSWORD) == 400
    assert _sign_in(web, "two-factor", PASSWORD, pyotp.TOTP(secret).now()) == 303


def test_csrf_token_and_cross_site_posts_are_refused(web: TestClient) -> None:
    _account(web, "csrf-user")
    web.get("/sign-in")
    forged = web.post("/sign-in", data={"username": "csrf-user", "password": PASSWORD, "csrf": "guess"})
    assert forged.status_code == 403
    cross = web.post("/sign-out", headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    page = web.get("/sign-in")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_break_glass_from_the_record_page_shows_in_the_residents_log_and_the_ig_console(web: TestClient) -> None:
    sign_in_as(web, "gp")
    refused = web.get("/record/pat-0")  # registered with the other practice
    assert refused.status_code == 404 and "Emergency access (break-glass)" in refused.text
    token = _csrf(refused.text)
    too_short = web.post("/record/pat-0/break-glass", data={"reason": "urgent", "csrf": token})
    assert too_short.status_code == 400
    before = dict(web.cookies)
    opened = web.post(
        "/record/pat-0/break-glass", data={"reason": "Collapsed in the surgery waiting room", "csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    assert opened.status_code == 303
    assert web.get("/record/pat-0").status_code == 200
    after = dict(web.cookies)
    web.cookies.clear()
    web.cookies.update(before)  # the session from before the privilege change is worth nothing now
    assert web.get("/record/pat-0", follow_redirects=False).status_code in (303, 401)
    web.cookies.clear()
    web.cookies.update(after)
    web.post("/sign-out")
    sign_in_as(web, "ig-manager")
    console = web.get("/ig/break-glass")
    assert "Collapsed in the surgery waiting room" in console.text
    grant = re.search(r"/ig/break-glass/([^/]+)/review", console.text)
    assert grant
    reviewed = web.post(
        f"/ig/break-glass/{grant.group(1)}/review", data={"note": "Appropriate", "csrf": _csrf(console.text)}
    )
    assert reviewed.status_code == 200 and "no break-glass access waiting" in reviewed.text
    web.post("/sign-out")
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gate.accounts.create("pat0", PASSWORD, "Resident", "Patient/pat-0", "resident", None, None)
    assert _sign_in(web, "pat0", PASSWORD) == 303
    log = web.get("/my-access-log").text
    assert "opened your record in an emergency" in log and "Collapsed in the surgery waiting room" in log


def test_demo_accounts_sign_in_with_their_printed_passwords(web: TestClient) -> None:
    from joinedup.web.demo_users import demo_accounts

    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    made = {who.key: (username, password) for who, username, password in demo_accounts(gate)}
    assert {"gp", "social-worker", "resident", "ig-manager"} <= set(made)
    username, password = made["social-worker"]
    assert _sign_in(web, username, password) == 303
    assert "Social worker, Saltmoor City Council Adult Social Care" in web.get("/").text
    again = dict((who.key, pw) for who, _, pw in demo_accounts(gate))  # a re-run gives new passwords
    assert again["social-worker"] != password
