"""A throwaway PostgreSQL server for the test session: Debian's binaries, a cluster in a temporary directory.

PostgreSQL refuses to run as root, so under root (as CI runs) the cluster belongs to the `postgres` system user
(created if absent) and initdb/pg_ctl run through `runuser`. The server listens on 127.0.0.1 only, on a free port,
with its unix socket inside the temporary directory, trusts loopback connections, and is tuned for tests (no fsync).
Stopping it is `pg_ctl stop -m immediate` and removes the directory.

JOINEDUP_TEST_POSTGRES_URL points the tests at an existing server instead: nothing is started, and databases are
created and dropped on that server.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_URL = "JOINEDUP_TEST_POSTGRES_URL"
OWNER = "postgres"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server; subprocesses get a little longer
COMMAND_TIMEOUT = START_TIMEOUT + 30
PORT_ATTEMPTS = 3  # the port is chosen by a bind test, so another process can take it before the server does
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "logging_collector": "off",
}


def find_pg_bin() -> Path:
    """The newest Debian PostgreSQL bin directory (/usr/lib/postgresql/N/bin), else the one holding `initdb` on PATH."""
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parent.parent.name.isdigit()]
    if versions:
        return max(versions, key=lambda p: int(p.parent.parent.name)).parent
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb): run `bash scripts/ensure-postgres.sh` as root")
    return Path(found).resolve().parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _world_traversable(directory: Path) -> bool:
    """Whether another user (the `postgres` owner when we are root) can reach inside `directory`."""
    return all(os.stat(p).st_mode & 0o001 for p in [directory, *directory.parents])


def _libpq(url: URL) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """A real PostgreSQL server for tests: `start()`/`stop()` or `with PostgresServer() as server: ...`."""

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        external = os.environ.get(ENV_URL, "").strip()
        self.external: URL | None = None
        if external:
            try:
                self.external = make_url(external).set(drivername="postgresql+psycopg")
            except ArgumentError as error:
                raise RuntimeError(f"{ENV_URL} is not a database URL: {external!r}") from error
        self.settings = {**SETTINGS, **(settings or {})}
        self.directory: Path | None = None
        self.bin_dir: Path | None = None
        self.port = 0
        self.user = OWNER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def running(self) -> bool:
        return self.external is not None or self.directory is not None

    @property
    def admin_url(self) -> str:
        """A SQLAlchemy URL for the maintenance database (`postgres`) as the superuser."""
        return self._admin_url().render_as_string(hide_password=False)

    def _admin_url(self) -> URL:
        if self.external is not None:
            return self.external if self.external.database else self.external.set(database="postgres")
        if self.directory is None:
            raise RuntimeError("the PostgreSQL test server is not running: call start() first")
        return URL.create(
            "postgresql+psycopg", username=self.user, host="127.0.0.1", port=self.port, database="postgres"
        )

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            return
        if os.geteuid() == 0:
            self._ensure_owner()
        self.bin_dir = find_pg_bin()
        base = Path(tempfile.gettempdir())
        if (os.geteuid() == 0 and not _world_traversable(base)) or len(str(base)) > 60:
            # The postgres user must reach the cluster (TMPDIR may be root's own), and a unix socket path is
            # limited to 107 bytes.
            base = Path("/tmp")
        self.directory = Path(tempfile.mkdtemp(prefix="joinedup-pg-", dir=base))
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                shutil.chown(self.directory, user=self.user, group=pwd.getpwnam(self.user).pw_gid)
            self.directory.chmod(0o700)
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    self.user,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=trust",
                    "--no-sync",
                    "--no-instructions",
                ]
            )
            self._restrict_hba()
            for attempt in range(PORT_ATTEMPTS):
                self.port = _free_port()
                self._configure()
                try:
                    self._run(
                        [
                            str(self.bin_dir / "pg_ctl"),
                            "-D",
                            str(self.data),
                            "-l",
                            str(self.log),
                            "-w",
                            "-t",
                            str(START_TIMEOUT),
                            "start",
                        ]
                    )
                    break
                except RuntimeError:
                    if attempt + 1 == PORT_ATTEMPTS or "already in use" not in self._log_text():
                        raise
                    self.log.unlink(missing_ok=True)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server at once (`-m immediate`: its data is thrown away) and remove its directory."""
        directory, self.directory = self.directory, None
        atexit.unregister(self.stop)
        if directory is None or self.bin_dir is None:
            return
        try:
            if (directory / "data" / "postmaster.pid").exists():
                self._run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "-D",
                        str(directory / "data"),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        str(START_TIMEOUT),
                        "stop",
                    ],
                    cwd=directory,
                )
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """A new, empty database (replacing any of that name); returns its SQLAlchemy URL."""
        self.drop_database(name)
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self._admin_url().set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(_libpq(self._admin_url()), autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    # -- internals -------------------------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    @property
    def log(self) -> Path:
        assert self.directory is not None
        return self.directory / "server.log"

    def _ensure_owner(self) -> None:
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            self._subprocess(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    self.user,
                ],
                as_owner=False,
            )

    def _restrict_hba(self) -> None:
        """Trust the unix socket and IPv4 loopback only (initdb also writes IPv6 and replication lines)."""
        (self.data / "pg_hba.conf").write_text(
            "# joinedup test server: trust, loopback only\nlocal all all trust\nhost  all all 127.0.0.1/32 trust\n"
        )

    def _configure(self) -> None:
        assert self.directory is not None
        settings = {**self.settings, "port": str(self.port), "unix_socket_directories": f"'{self.directory}'"}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # postgresql.auto.conf is read last and belongs to the owner already; rewriting it on a port retry is fine.
        (self.data / "postgresql.auto.conf").write_text(f"# joinedup test server\n{lines}")

    def _log_text(self) -> str:
        if self.directory is None:
            return ""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _run(self, command: list[str], cwd: Path | None = None) -> None:
        self._subprocess(command, as_owner=True, cwd=cwd)

    def _subprocess(self, command: list[str], as_owner: bool, cwd: Path | None = None) -> None:
        if as_owner and os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        # cwd: the owner may not be allowed into the caller's directory (e.g. /root/...).
        workdir = cwd or self.directory or Path("/")
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            excerpt = self._log_excerpt()
            raise RuntimeError(f"timed out after {COMMAND_TIMEOUT}s: {' '.join(command)}{excerpt}") from error
        if result.returncode != 0:
            output = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
            raise RuntimeError(
                f"failed with exit status {result.returncode}: {' '.join(command)}\n{output}{self._log_excerpt()}"
            )

    def _log_excerpt(self) -> str:
        text = self._log_text()
        return f"\n--- server log ({self.log}) ---\n{text[-4000:]}" if text else ""
