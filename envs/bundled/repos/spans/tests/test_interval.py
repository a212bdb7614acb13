import pytest

from spans import Interval


def test_default_half_open():
    i = Interval(1, 5)
    assert 1 in i and 4.99 in i and 5 not in i


def test_closed_contains_both_ends():
    i = Interval.closed(1, 5)
    assert 1 in i and 5 in i


def test_open_excludes_ends():
    i = Interval.open(1, 5)
    assert 1 not in i and 5 not in i and 3 in i


def test_bad_bounds():
    with pytest.raises(ValueError):
        Interval(5, 1)


def test_empty():
    assert Interval(3, 3).empty
    assert not Interval.point(3).empty


def test_length():
    assert Interval(2, 7).length == 5


def test_overlaps_basic():
    assert Interval(1, 5).overlaps(Interval(4, 8))
    assert not Interval(1, 2).overlaps(Interval(3, 4))


def test_overlaps_touching_half_open():
    assert not Interval(1, 2).overlaps(Interval(2, 3))


def test_overlaps_touching_closed():
    assert Interval.closed(1, 2).overlaps(Interval.closed(2, 3))


def test_adjacent():
    assert Interval(1, 2).adjacent(Interval(2, 3))
    assert not Interval.closed(1, 2).adjacent(Interval.closed(2, 3))


def test_intersection():
    assert Interval(1, 5).intersection(Interval(3, 8)) == Interval(3, 5)


def test_intersection_none():
    assert Interval(1, 2).intersection(Interval(5, 6)) is None


def test_hull():
    assert Interval(1, 2).hull(Interval(5, 6)) == Interval(1, 6)


def test_contains_interval():
    assert Interval(0, 10).contains_interval(Interval(2, 3))
    assert not Interval(0, 10).contains_interval(Interval(5, 11))
    assert not Interval.open(0, 10).contains_interval(Interval.closed(0, 1))


def test_repr():
    assert repr(Interval(1, 2)) == "[1, 2)"
    assert repr(Interval.open(1, 2)) == "(1, 2)"


def test_equality_of_empties():
    assert Interval(1, 1) == Interval(4, 4)


def test_strings_work():
    assert "m" in Interval("a", "z")
