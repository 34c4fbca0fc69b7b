"""The `joinedup` command: help everywhere, one-line errors with a non-zero exit, load end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
