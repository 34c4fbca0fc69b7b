"""Small-number suppression: counts of 1-7 shown as "<8" with no share, others rounded to the nearest 5."""

from __future__ import annotations

from joinedup.population.web.disclosure import published, shown, shown_share, suppressed


def test_counts_of_one_to_seven_are_suppressed_and_others_rounded() -> None:
    assert [suppressed(n) for n in (0, 1, 7, 8)] == [False, True, True, False]
    assert [shown(n) for n in (0, 1, 7, 8, 12, 13, 1234)] == ["0", "<8", "<8", "10", "10", "15", "1,235"]
    assert [published(n) for n in (0, 3, 8, 1234)] == [0, 0, 10, 1235]


def test_a_share_is_hidden_where_its_count_or_group_is_suppressed() -> None:
    assert shown_share(3, 100) == "" and shown_share(3, 5) == "" and shown_share(0, 0) == ""
    assert shown_share(20, 100) == "20.0%"
    assert shown_share(0, 100) == "0.0%"
