"""Every page's assets come from the app itself: no template and no stylesheet the app serves names another host
(the NHS.UK frontend's CSS loads its web font from assets.nhs.uk; the app serves it without those rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import joinedup
from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.web.assets import MOUNTS, node_modules
from joinedup.web.offline_css import offline_stylesheet

PACKAGE = Path(joinedup.__file__).resolve().parent
TEMPLATES = sorted(PACKAGE.rglob("templates/**/*.html"))
ABSOLUTE_URL = re.compile(r"https?://[^\s\"'()<>]+", re.IGNORECASE)
# An XML namespace name (the inline SVG's xmlns) identifies a vocabulary and is never fetched.
NAMESPACE = re.compile(r"""xmlns(:\w+)?=["']http://www\.w3\.org/[^"']*["']""")
APP_HOSTS = ("http://127.0.0.1", "http://localhost")


def _outside_urls(text: str) -> list[str]:
    return [url for url in ABSOLUTE_URL.findall(NAMESPACE.sub("", text)) if not url.startswith(APP_HOSTS)]


def _served_stylesheets() -> list[str]:
    root = node_modules(Settings())
    return sorted(
        f"{prefix}/{path.relative_to(root.joinpath(*parts)).as_posix()}"
        for prefix, parts in MOUNTS.items()
        for path in root.joinpath(*parts).rglob("*.css")
    )


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app's static files need no place: an empty SQLite database (stylesheets are the same on either)."""
    folder = tmp_path_factory.mktemp("assets")
    settings = Settings(database_url=f"sqlite:///{folder}/assets.sqlite3", environment="test",
                        export_dir=folder / "exports", pseudonym_key_file=folder / "pseudonym.key")  # fmt: skip
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def test_the_templates_are_found() -> None:
    assert len(TEMPLATES) > 20 and any(t.name == "base.html" for t in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.relative_to(PACKAGE).as_posix())
def test_no_template_names_another_host(template: Path) -> None:
    assert _outside_urls(template.read_text(encoding="utf-8")) == []


def test_the_package_stylesheet_does_load_a_remote_font() -> None:
    """The rewrite below is needed: the package's own CSS points at assets.nhs.uk (a new version may stop)."""
    packaged = node_modules(Settings()) / "nhsuk-frontend" / "dist" / "nhsuk" / "nhsuk-frontend.min.css"
    assert any("assets.nhs.uk" in url for url in _outside_urls(packaged.read_text(encoding="utf-8")))


def test_every_served_stylesheet_names_no_other_host(assets: TestClient) -> None:
    stylesheets = _served_stylesheets()
    assert "/static/nhsuk/nhsuk-frontend.min.css" in stylesheets
    for href in stylesheets:
        response = assets.get(href)
        assert response.status_code == 200, href
        assert response.headers["content-type"].startswith("text/css"), href
        assert _outside_urls(response.text) == [], href
        assert "@font-face" not in response.text, href


def test_the_pages_font_stack_ends_in_local_fonts(assets: TestClient) -> None:
    css = assets.get("/static/nhsuk/nhsuk-frontend.min.css").text
    stack = re.search(r"font-family:(\"Frutiger W01\"[^;}]*)", css)
    assert stack is not None
    assert stack.group(1).split(",")[-3:] == ['"Liberation Sans"', '"Noto Sans"', "sans-serif"]
    assert "system-ui" in stack.group(1)


def test_the_rewrite_keeps_local_font_faces() -> None:
    css = (
        '@font-face{font-family:Local;src:url(/assets/fonts/local.woff2) format("woff2")}'
        '@font-face{font-family:Remote;src:url(https://fonts.example/remote.woff2) format("woff2")}'
        "body{font-family:Frutiger W01,arial,sans-serif}"
    )
    rewritten = offline_stylesheet(css)
    assert "Local" in rewritten and "Remote" not in rewritten and "fonts.example" not in rewritten
    assert "system-ui" in rewritten
