"""Browser tests: the app served by uvicorn on loopback (a thread) over a generated place in SQLite, driven by
Playwright through Debian's Chromium (/usr/bin/chromium; Playwright never downloads a browser here)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from joinedup.access.accounts.tokens import TokenService
from joinedup.access.audit.trail import AuditTrail
from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

from ..web import place

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SYSTEM_CLIENT, SYSTEM_SECRET = "e2e-feed", secrets.token_urlsafe(24)
BIG_PERSON = place.person(41)  # long enough that the timeline is paged; registered with the demo GP's practice


def _chromium() -> Path:
    """Debian's Chromium, installing it when we can; a skip with the reason when we cannot."""
    if not CHROMIUM.exists() and os.geteuid() == 0:
        subprocess.run(["bash", str(REPO / "scripts" / "ensure-chromium.sh")], check=False)
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium and this user cannot install it (not root)"
        )
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'place.sqlite3'}"
    upgrade(url)
    store = FhirStore(make_engine(url))
    place.load(store, place.place(people=12, entries=30) + place.person_resources(BIG_PERSON, 150))
    TokenService(store.engine, AuditTrail(store.engine)).register_client(
        SYSTEM_CLIENT, SYSTEM_SECRET, "The browser tests' feed", "system", None, "system/*.cruds"
    )
    store.engine.dispose()
    yield from serve(lambda base: Settings(database_url=url, environment="test", export_dir=folder / "exports",
                                          base_url=base, served_on_loopback=True))  # fmt: skip


@pytest.fixture(scope="session")
def system_headers(base_url: str) -> dict[str, str]:
    """A registered system client's bearer token (from the token endpoint), for records that arrive by the API."""
    form = {"grant_type": "client_credentials", "scope": "system/*.cruds"}
    issued = httpx.post(f"{base_url}/auth/token", data=form, auth=(SYSTEM_CLIENT, SYSTEM_SECRET))
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def serve(settings_for: Callable[[str], Settings]) -> Iterator[str]:
    """The app on a free loopback port in a thread, for the browser: yields its base URL, stops it after."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings_for(base)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _loopback_only(route: Route) -> None:
    """Pages must work offline: anything not on loopback (e.g. the NHS web font) is refused."""
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


# Package scope, not session: Playwright's sync API leaves an event loop running on the main thread while it is
# open, so every asyncio.run() later in the same worker fails ("cannot be called from a running event loop"). The
# browser tests are one xdist group, run together, so the browser starts once and stops after the last of them.
@pytest.fixture(scope="package")
def browser_contexts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BrowserContext]]:
    executable = _chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        contexts: dict[str, BrowserContext] = {}
        for name, javascript in (("scripted", True), ("no-script", False)):
            context = playwright.chromium.launch_persistent_context(
                user_data_dir=str(tmp_path_factory.mktemp(f"chromium-{name}")),  # new and empty
                executable_path=str(executable),
                headless=True,
                args=CHROMIUM_ARGS,
                java_script_enabled=javascript,
                locale="en-GB",
                viewport={"width": 1280, "height": 900},
            )
            context.route("**/*", _loopback_only)
            context.set_default_timeout(10_000)
            contexts[name] = context
        yield contexts
        for context in contexts.values():
            context.close()


def _page(context: BrowserContext) -> Iterator[Page]:
    context.clear_cookies()
    page = context.new_page()
    yield page
    page.close()


@pytest.fixture
def page(browser_contexts: dict[str, BrowserContext]) -> Iterator[Page]:
    yield from _page(browser_contexts["scripted"])


@pytest.fixture
def page_without_javascript(browser_contexts: dict[str, BrowserContext]) -> Iterator[Page]:
    yield from _page(browser_contexts["no-script"])


def check_accessibility(page: Page, name: str) -> None:
    """axe-core (WCAG 2.0, 2.1 and 2.2 A and AA rules) finds nothing; a full-page screenshot is kept either way."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice']}})"""
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"]
    ]
    assert violations == [], f"axe found problems on {name}:\n" + "\n".join(violations)
