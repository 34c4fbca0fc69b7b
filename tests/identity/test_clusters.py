from __future__ import annotations

from joinedup.identity.clusters import assign_person_ids, connected_components, new_person_id


def test_links_become_connected_components_and_singletons_stay_alone() -> None:
    components = connected_components(["a", "b", "c", "d", "e"], [("a", "b"), ("c", "b"), ("d", "e")])
    assert components == [frozenset({"a", "b", "c"}), frozenset({"d", "e"})]
    assert connected_components(["x"], []) == [frozenset({"x"})]


def test_person_ids_are_reproducible() -> None:
    components = connected_components(["a", "b", "c"], [("a", "b")])
    assert assign_person_ids(components) == assign_person_ids(components)
    ids = assign_person_ids(components)
    assert ids["a"] == ids["b"] != ids["c"]


def test_a_new_record_joining_a_person_keeps_the_person_id() -> None:
    before = assign_person_ids(connected_components(["b", "c"], [("b", "c")]))
    after = assign_person_ids(connected_components(["a", "b", "c"], [("a", "b"), ("b", "c")]), before)
    assert after["a"] == after["b"] == after["c"] == before["b"]


def test_a_merge_keeps_one_id_and_a_split_leaves_it_with_the_larger_part() -> None:
    before = assign_person_ids(connected_components(["a", "b", "c", "x"], [("a", "b"), ("b", "c")]))
    merged = assign_person_ids(connected_components(["a", "b", "c", "x"], [("a", "b"), ("b", "c"), ("c", "x")]), before)
    assert merged["x"] == before["a"]
    split = assign_person_ids(connected_components(["a", "b", "c", "x"], [("b", "c")]), merged)
    assert split["b"] == split["c"] == before["a"]
    assert split["a"] != before["a"] and split["x"] != before["a"] and split["a"] != split["x"]


def test_a_new_id_never_collides_with_a_taken_one() -> None:
    taken = {new_person_id(["a"])}
    assert new_person_id(["a"], taken) not in taken
