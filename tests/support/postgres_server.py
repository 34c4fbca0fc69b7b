"""A throwaway PostgreSQL server for the test session: Debian's binaries, a cluster in a temporary directory.

PostgreSQL refuses to run as root, so under root (as CI runs) the cluster belongs to the `postgres` system user.
It listens on 127.0.0.1 only, on a free port, tuned for tests (no fsync). JOINEDUP_TEST_POSTGRES_URL points the
tests at an existing server instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

TIMEOUT = 60


def find_pg_bin() -> Path:
    """The newest Debian PostgreSQL bin directory, else the one holding `initdb` on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/ensure-postgres.sh")
    return Path(found).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.external = os.environ.get("JOINEDUP_TEST_POSTGRES_URL")
        self.directory: Path | None = None
        self.port = 0
        self.user = "postgres"

    @property
    def admin_url(self) -> str:
        if self.external:
            return self.external
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, command: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", self.user, "--", *command]
        return command

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(self._as_owner(command), capture_output=True, text=True, timeout=TIMEOUT)
        if result.returncode != 0:
            log = self._log_tail()
            raise RuntimeError(f"{command[0]} failed: {result.stderr.strip()} {result.stdout.strip()} {log}")

    def _log_tail(self) -> str:
        if self.directory is None:
            return ""
        log = self.directory / "server.log"
        return log.read_text()[-2000:] if log.exists() else ""

    def start(self) -> None:
        if self.external:
            return
        if os.geteuid() != 0:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        else:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, timeout=TIMEOUT)
        bin_dir = find_pg_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="joinedup-pg-"))
        data = self.directory / "data"
        if os.geteuid() == 0:
            shutil.chown(self.directory, user=self.user)
        self.directory.chmod(0o700)
        self._run([str(bin_dir / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        self.port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                   "-c shared_buffers=128MB")
        self._run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "server.log"), "-o",
                   options, "-w", "-t", str(TIMEOUT), "start"])

    def stop(self) -> None:
        if self.external or self.directory is None:
            return
        try:
            self._run([str(find_pg_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w",
                       "stop"])
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _admin(self, sql: str) -> None:
        url = make_url(self.admin_url)
        with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                             dbname=url.database or "postgres", autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{name}"')
        self._admin(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
