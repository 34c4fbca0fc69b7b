"""The `joinedup` command: help everywhere, one-line errors with a non-zero exit, load end to end."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from .fixtures import patient

JOINEDUP = str(Path(sys.executable).parent / "joinedup")


def run(*args: str, database: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if database is not None:
        env["JOINEDUP_DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run([JOINEDUP, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["load"],
        ["serve"],
        ["demo"],
        ["db"],
        ["db", "upgrade"],
        ["synth"],
        ["accounts"],
        ["accounts", "create"],
        ["accounts", "disable"],
        ["accounts", "set-role"],
        ["clients"],
        ["clients", "register"],
        ["audit", "verify"],
        ["audit", "checkpoint"],
        ["audit", "rotate-key"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_bad_input_is_one_line_and_non_zero(tmp_path: Path) -> None:
    missing = run("load", str(tmp_path / "nothing-here"), database=tmp_path / "db.sqlite3")
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "no such file" in missing.stderr
    env = {**os.environ, "JOINEDUP_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    unreachable = subprocess.run([JOINEDUP, "db", "upgrade"], capture_output=True, text=True, env=env, timeout=60)
    assert unreachable.returncode == 2
    assert unreachable.stderr.strip().count("\n") == 0 and "could not be used" in unreachable.stderr


def test_load_reports_rejects_and_reruns_cleanly(tmp_path: Path) -> None:
    feed = tmp_path / "feeds" / "gp"
    feed.mkdir(parents=True)
    lines = [orjson.dumps(patient(f"p{n}")) for n in range(5)] + [b'{"resourceType": "Patient", "birthDate": 3}']
    (feed / "Patient.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    database = tmp_path / "db.sqlite3"
    first = run("load", str(tmp_path / "feeds"), database=database)
    assert first.returncode == 1
    assert "5 created" in first.stderr and "1 rejected" in first.stderr
    assert "Patient.ndjson:6" in first.stderr and "Patient.birthDate" in first.stderr
    (feed / "Patient.ndjson").write_bytes(b"\n".join(lines[:5]) + b"\n")
    second = run("load", str(tmp_path / "feeds"), database=database)
    assert second.returncode == 0, second.stderr
    assert "0 created" in second.stderr and "5 unchanged" in second.stderr


def test_serve_refuses_the_development_environment_off_loopback(tmp_path: Path) -> None:
    """One-click demo sign-in makes anyone anybody: development and test are served on loopback only."""
    for environment, host in (("development", "0.0.0.0"), ("test", "192.0.2.10"), ("development", "example.org")):
        env = {**os.environ, "JOINEDUP_ENVIRONMENT": environment, "JOINEDUP_DATABASE_URL": f"sqlite:///{tmp_path}/d"}
        refused = subprocess.run([JOINEDUP, "serve", "--host", host], capture_output=True, text=True, env=env,
                                 timeout=60)  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().count("\n") == 0 and "loopback" in refused.stderr and host in refused.stderr
    assert not (tmp_path / "d").exists()  # refused before touching the database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_default_serve_answers_401_without_credentials_and_keeps_a_sign_in_across_its_processes(
    tmp_path: Path,
) -> None:
    """`joinedup serve` as a newcomer runs it (development, two processes): the API is closed without a token, and
    a sign-in made by one process is honoured by the other (they share the session key file)."""
    env = {
        **os.environ, "JOINEDUP_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "JOINEDUP_ENVIRONMENT": "development",
        "JOINEDUP_SESSION_SECRET_FILE": str(tmp_path / "session.key"),
    }  # fmt: skip
    for name in ("JOINEDUP_SESSION_SECRET", "JOINEDUP_SERVED_ON_LOOPBACK"):
        env.pop(name, None)
    upgraded = subprocess.run([JOINEDUP, "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    created = subprocess.run(
        [JOINEDUP, "accounts", "create", "two-process", "--role", "gp", "--user", "PractitionerRole/p1",
         "--name", "Dr Two", "--password", "a long enough password"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([JOINEDUP, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two processes importing the app on a busy machine
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            started = time.monotonic() < deadline and server.poll() is None
            assert started, f"the server did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}"
            time.sleep(0.2)
        refused = httpx.get(f"{base}/fhir/Patient")
        assert refused.status_code == 401 and refused.json()["resourceType"] == "OperationOutcome"
        with httpx.Client(base_url=base) as browser:
            token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/sign-in").text)
            assert token is not None and "Development sign-in" in browser.get("/sign-in").text  # on loopback
            form = {"username": "two-process", "password": "a long enough password", "csrf": token.group(1)}
            assert browser.post("/sign-in", data=form).status_code == 303
            cookies = browser.cookies
        for _ in range(30):  # a new connection each time: the kernel hands them to either process
            with httpx.Client(base_url=base, cookies=cookies) as fresh:
                home = fresh.get("/")
                assert home.status_code == 200 and "Dr Two" in home.text
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
