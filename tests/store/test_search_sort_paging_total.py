"""_sort (several keys, descending, ties), _count with next/previous links walked via the API, _total, POST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from ..fixtures import patient
from .test_search_support import BACKENDS, bundle_ids, seeded_client

# Written in this order, so pk (the final tie-break) follows it.
PEOPLE = [
    ("s1", "Adams", "1980-01-01"),
    ("s2", "Brown", "1970"),
    ("s3", "Adams", "1990-03-01"),
    ("s4", "Clark", "1970-05-05"),
    ("s5", "brown", "1985"),
    ("s6", "Zed", None),
    ("s7", "Evans", "1990"),
]


def _resources() -> list[dict[str, Any]]:
    found = []
    for pid, family, birth in PEOPLE:
        resource = patient(pid, family=family, birth=birth or "2000")
        if birth is None:
            del resource["birthDate"]
        found.append(resource)
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with seeded_client(request, tmp_path_factory, _resources()) as seeded:
        yield seeded


def _get(client: TestClient, url: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("family", ["s1", "s3", "s2", "s5", "s4", "s7", "s6"]),  # ties (Adams, Brown/brown) in write order
        ("-family", ["s6", "s7", "s4", "s2", "s5", "s1", "s3"]),
        ("family,-birthdate", ["s3", "s1", "s5", "s2", "s4", "s7", "s6"]),
        ("birthdate", ["s2", "s4", "s1", "s5", "s7", "s3", "s6"]),  # by the start of each range; none last
        ("-birthdate", ["s7", "s3", "s5", "s1", "s2", "s4", "s6"]),  # by the end of each range
        ("-birthdate,family", ["s7", "s3", "s5", "s1", "s2", "s4", "s6"]),
        ("_id", ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]),
        ("-_id", ["s7", "s6", "s5", "s4", "s3", "s2", "s1"]),
        ("_lastUpdated", ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]),
        ("-_lastUpdated", ["s7", "s6", "s5", "s4", "s3", "s2", "s1"]),
        ("gender,family", ["s1", "s3", "s2", "s5", "s4", "s7", "s6"]),
    ],
)
def test_sort(client: TestClient, sort: str, expected: list[str]) -> None:
    assert bundle_ids(_get(client, "/fhir/Patient", [("_sort", sort)])) == expected


@pytest.mark.parametrize("total", [None, "accurate"])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 10])
def test_paging_walks_every_match_exactly_once(client: TestClient, count: int, total: str | None) -> None:
    expected = ["s3", "s1", "s5", "s2", "s4", "s7", "s6"]
    asked = [("_total", total)] if total else []
    bundle = _get(client, "/fhir/Patient", [("_sort", "family,-birthdate"), ("_count", str(count)), *asked])
    pages = [bundle]
    while (url := _link(bundle, "next")) is not None:
        query = parse_qsl(urlsplit(url).query)
        assert [k for k, _ in query].count("_offset") == 1, "each link names its offset once"
        assert [k for k, _ in query].count("_count") == 1
        bundle = _get(client, url)
        pages.append(bundle)
        assert len(pages) <= 8
    walked = [i for page in pages for i in bundle_ids(page)]
    assert walked == expected
    if total == "accurate":  # asked for: on every page, so the links carry _total too
        assert all(page["total"] == 7 for page in pages)
    else:  # not asked: given where it is free, the page that reaches the last match (decision 0013)
        assert pages[-1]["total"] == 7
        assert all("total" not in page for page in pages[:-1])
    assert all(len(bundle_ids(page)) <= count for page in pages)
    assert _link(pages[0], "previous") is None
    # ...and back again by the previous links, page by page
    backwards = [bundle_ids(pages[-1])]
    bundle = pages[-1]
    while (url := _link(bundle, "previous")) is not None:
        bundle = _get(client, url)
        backwards.append(bundle_ids(bundle))
    assert backwards == [bundle_ids(p) for p in reversed(pages)]


def test_paging_keeps_the_criteria(client: TestClient) -> None:
    bundle = _get(client, "/fhir/Patient", [("family", "adams,brown"), ("_sort", "_id"), ("_count", "3")])
    assert bundle_ids(bundle) == ["s1", "s2", "s3"]
    next_url = _link(bundle, "next")
    assert next_url is not None
    assert ("family", "adams,brown") in parse_qsl(urlsplit(next_url).query)
    assert bundle_ids(_get(client, next_url)) == ["s5"]


def test_total_modes(client: TestClient) -> None:
    assert _get(client, "/fhir/Patient", [("family", "adams"), ("_total", "accurate")])["total"] == 2
    assert "total" not in _get(client, "/fhir/Patient", [("family", "adams"), ("_total", "none")])
    assert _get(client, "/fhir/Patient", [("_count", "2"), ("_total", "accurate")])["total"] == 7  # of all pages
    assert _get(client, "/fhir/Patient", [("_count", "2"), ("_total", "estimate")])["total"] == 7
    # Not asked: left out while more pages follow (counting them is the cost), given once the page reaches the end
    assert "total" not in _get(client, "/fhir/Patient", [("_count", "2")])
    assert _get(client, "/fhir/Patient", [("_count", "2"), ("_offset", "6")])["total"] == 7
    assert _get(client, "/fhir/Patient", [("family", "adams")])["total"] == 2
    assert _get(client, "/fhir/Patient", [("family", "nobody-of-that-name")])["total"] == 0
    assert "total" not in _get(client, "/fhir/Patient", [("_count", "2"), ("_offset", "50")])  # past the end
    assert _get(client, "/fhir/Patient", [("_summary", "count"), ("_total", "none")])["total"] == 7
    counted = _get(client, "/fhir/Patient", [("family", "brown"), ("_summary", "count")])
    assert counted["total"] == 2
    assert counted.get("entry", []) == []
    empty = _get(client, "/fhir/Patient", [("_count", "0")])
    assert empty["total"] == 7
    assert empty.get("entry", []) == []


def test_post_search_equals_get(client: TestClient) -> None:
    query = [("family", "adams,brown"), ("birthdate", "ge1980"), ("_sort", "-birthdate")]
    got = bundle_ids(_get(client, "/fhir/Patient", query))
    posted = client.post(
        "/fhir/Patient/_search",
        content="family=adams%2Cbrown&birthdate=ge1980&_sort=-birthdate",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200, posted.text
    assert got == bundle_ids(posted.json()) == ["s3", "s5", "s1"]
    mixed = client.post(
        "/fhir/Patient/_search?family=adams", data={"birthdate": "lt1985"}
    )  # URL and body parameters combine
    assert bundle_ids(mixed.json()) == ["s1"]


def test_unknown_parameters_lenient_and_strict(client: TestClient) -> None:
    lenient = _get(client, "/fhir/Patient", [("family", "adams"), ("shoe-size", "9")])
    assert sorted(bundle_ids(lenient)) == ["s1", "s3"]
    self_link = _link(lenient, "self") or ""
    assert "shoe-size" not in self_link
    assert "family=adams" in self_link
    strict = client.get(
        "/fhir/Patient", params={"family": "adams", "shoe-size": "9"}, headers={"Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["shoe-size"]
    assert (
        client.get("/fhir/Patient", params={"family": "adams"}, headers={"Prefer": "handling=strict"}).status_code
        == 200
    )
