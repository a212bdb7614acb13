from spans import Interval, IntervalSet


def test_normalizes_overlaps():
    s = IntervalSet([Interval(5, 8), Interval(1, 3), Interval(2, 4)])
    assert list(s) == [Interval(1, 4), Interval(5, 8)]


def test_merges_adjacent():
    s = IntervalSet([Interval(1, 2), Interval(2, 3)])
    assert list(s) == [Interval(1, 3)]


def test_drops_empty():
    assert len(IntervalSet([Interval(1, 1)])) == 0


def test_contains():
    s = IntervalSet([Interval(1, 2), Interval(5, 6)])
    assert 1.5 in s and 3 not in s


def test_add():
    s = IntervalSet([Interval(1, 2)])
    s.add(Interval(1.5, 4))
    assert list(s) == [Interval(1, 4)]


def test_union_operator():
    a = IntervalSet([Interval(0, 1)])
    b = IntervalSet([Interval(3, 4)])
    assert list(a | b) == [Interval(0, 1), Interval(3, 4)]


def test_intersection():
    a = IntervalSet([Interval(0, 5), Interval(10, 15)])
    b = IntervalSet([Interval(3, 12)])
    assert list(a & b) == [Interval(3, 5), Interval(10, 12)]


def test_difference_middle():
    a = IntervalSet([Interval(0, 10)])
    b = IntervalSet([Interval(3, 5)])
    assert list(a - b) == [Interval(0, 3), Interval(5, 10)]


def test_difference_all():
    a = IntervalSet([Interval(2, 3)])
    assert not (a - IntervalSet([Interval(0, 10)]))


def test_total_length():
    s = IntervalSet([Interval(0, 2), Interval(5, 6)])
    assert s.total_length() == 3


def test_total_length_empty():
    assert IntervalSet().total_length() == 0


def test_gaps():
    s = IntervalSet([Interval(0, 2), Interval(5, 6)])
    assert s.gaps() == [Interval(2, 5)]


def test_complement():
    s = IntervalSet([Interval(2, 4)])
    assert list(s.complement(Interval(0, 10))) == [Interval(0, 2), Interval(4, 10)]


def test_equality():
    assert IntervalSet([Interval(1, 2)]) == IntervalSet([Interval(1, 2)])
