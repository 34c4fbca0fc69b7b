"""Serving: 16 concurrent HTTP clients (wrk, from Debian) against the FHIR API over loopback.

Each scenario draws its URLs at random from a list made from the loaded data (so caches see realistic spread) and
reports requests per second and the p50/p95 latency that wrk's own histogram measured. The baseline in the same
run is `/healthz`, a route that touches neither the store nor JSON: the cost of the HTTP stack itself. The FHIR
requests carry a system client's bearer token, as every API caller must (decision 0311): its lookup is part of
each request's cost.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from joinedup.access.accounts.tokens import TokenService
from joinedup.access.audit.trail import AuditTrail
from joinedup.store.engine import make_engine

LUA = """
local urls = {}
for line in io.lines(os.getenv("BENCH_URLS")) do urls[#urls + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", urls[math.random(#urls)],
    {["Accept"] = "application/fhir+json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class ServingFigures:
    scenario: str
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`joinedup serve` in a child process with the given database, stopped on exit."""

    def __init__(self, database_url: str, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = ""  # the system client's bearer token, once the server is up
        env = {**os.environ, "JOINEDUP_DATABASE_URL": database_url, "JOINEDUP_BASE_URL": self.base, **(env or {})}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "joinedup.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    self.token = self._get_token(database_url)
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start")

    def _get_token(self, database_url: str) -> str:
        """A system client registered as `joinedup clients register` does, and its token from /auth/token."""
        secret = secrets.token_urlsafe(24)
        engine = make_engine(database_url)
        tokens = TokenService(engine, AuditTrail(engine))
        client_id = f"bench-{secrets.token_hex(4)}"
        tokens.register_client(client_id, secret, "Benchmark client", "system", None, "system/*.rs")
        engine.dispose()
        form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
        issued = httpx.post(f"{self.base}/auth/token", data=form, auth=(client_id, secret), timeout=30)
        issued.raise_for_status()
        return str(issued.json()["access_token"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_wrk(
    base: str, token: str, paths: list[str], seconds: int = 15, connections: int = 16
) -> tuple[float, float, float, int]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: run scripts/ensure-bench-tools.sh")
    with tempfile.TemporaryDirectory() as folder:
        urls = Path(folder) / "urls.txt"
        urls.write_text("\n".join(paths) + "\n")
        script = Path(folder) / "random.lua"
        script.write_text(LUA)
        result = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base],
            env={**os.environ, "BENCH_URLS": str(urls), "BENCH_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", result.stdout)
    if match is None:
        raise RuntimeError(f"wrk said: {result.stdout}\n{result.stderr}")
    requests, duration_us = int(match.group(1)), int(match.group(2))
    return (
        requests / (duration_us / 1e6),
        float(match.group(3)) / 1000,
        float(match.group(4)) / 1000,
        int(match.group(5)),
    )


def scenario(name: str, server: Server, paths: list[str], seconds: int = 15) -> ServingFigures:
    # one warm-up pass so that the first figures are not the cold cache's
    run_wrk(server.base, server.token, paths, seconds=3)
    rps, p50, p95, errors = run_wrk(server.base, server.token, paths, seconds=seconds)
    return ServingFigures(name, rps, p50, p95, errors)


def sample(items: list[str], size: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return items if len(items) <= size else rng.sample(items, size)
