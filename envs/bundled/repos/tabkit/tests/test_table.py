import pytest

from tabkit import Table, TableError


def people():
    return Table(
        ["name", "team", "points"],
        [["ann", "red", 10], ["bob", "blue", 7], ["cy", "red", 3], ["dee", "blue", 12]],
    )


def test_len_and_columns():
    t = people()
    assert len(t) == 4 and t.columns == ["name", "team", "points"]


def test_duplicate_columns():
    with pytest.raises(TableError):
        Table(["a", "a"])


def test_wrong_row_length():
    with pytest.raises(TableError):
        Table(["a"], [[1, 2]])


def test_from_dicts():
    t = Table.from_dicts([{"a": 1}, {"a": 2, "b": 3}])
    assert t.columns == ["a", "b"] and t.rows == [[1, None], [2, 3]]


def test_iter_records():
    assert next(iter(people())) == {"name": "ann", "team": "red", "points": 10}


def test_select():
    assert people().select("points", "name").rows[0] == [10, "ann"]


def test_unknown_column():
    with pytest.raises(TableError):
        people().select("nope")


def test_where_equals():
    assert people().where(team="red").column("name") == ["ann", "cy"]


def test_where_predicate():
    assert people().where(lambda r: r["points"] > 8).column("name") == ["ann", "dee"]


def test_sort_by():
    assert people().sort_by("points").column("name") == ["cy", "bob", "ann", "dee"]


def test_sort_by_reverse():
    assert people().sort_by("points", reverse=True).column("points") == [12, 10, 7, 3]


def test_sort_by_two_keys():
    assert people().sort_by("team", "points").column("name") == ["bob", "dee", "cy", "ann"]


def test_head():
    assert len(people().head(2)) == 2


def test_add_column():
    t = people().add_column("double", lambda r: r["points"] * 2)
    assert t.column("double") == [20, 14, 6, 24]


def test_group_by_sum_count():
    g = people().group_by("team", total="sum:points", n="count:name")
    assert g.rows == [["red", 13, 2], ["blue", 19, 2]]


def test_group_by_mean():
    g = people().group_by("team", avg="mean:points")
    assert g.column("avg") == [6.5, 9.5]


def test_group_by_unknown_aggregate():
    with pytest.raises(TableError):
        people().group_by("team", x="median:points")


def test_join():
    teams = Table(["team", "city"], [["red", "Oslo"], ["blue", "Rome"]])
    joined = people().join(teams, on="team")
    assert joined.columns == ["name", "team", "points", "city"]
    assert joined.column("city") == ["Oslo", "Rome", "Oslo", "Rome"]


def test_numeric_columns():
    assert people().numeric_columns() == ["points"]
