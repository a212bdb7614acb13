# ruff: noqa: E501 -- verbatim source lines and issue text
"""Bugs in spans (intervals, interval sets, date ranges)."""

from bugs import Bug, Edit

LIB = "spans"

BUGS = [
    Bug(
        LIB,
        "open-intervals-merged",
        "medium",
        "wrong-condition",
        (
            Edit(
                "spans/interval.py",
                "        if self.upper == other.lower:\n"
                "            return self.upper_closed != other.lower_closed\n"
                "        if other.upper == self.lower:\n"
                "            return other.upper_closed != self.lower_closed\n",
                "        if self.upper == other.lower:\n"
                "            return not (self.upper_closed and other.lower_closed)\n"
                "        if other.upper == self.lower:\n"
                "            return not (other.upper_closed and self.lower_closed)\n",
            ),
        ),
        """from spans import Interval, IntervalSet


def test_open_intervals_sharing_endpoint_are_not_adjacent():
    assert not Interval.open(1, 2).adjacent(Interval.open(2, 3))


def test_interval_set_keeps_hole_between_open_intervals():
    s = IntervalSet([Interval.open(1, 2), Interval.open(2, 3)])
    assert 2 not in s
    assert list(s) == [Interval.open(1, 2), Interval.open(2, 3)]


def test_half_open_pair_still_merges():
    assert list(IntervalSet([Interval(1, 2), Interval(2, 3)])) == [Interval(1, 3)]
""",
        """IntervalSet swallows the point between two open intervals

```python
>>> from spans import Interval, IntervalSet
>>> s = IntervalSet([Interval.open(1, 2), Interval.open(2, 3)])
>>> list(s)
[(1, 3)]
>>> 2 in s
True
```

Neither `(1, 2)` nor `(2, 3)` contains 2, so their union should not contain it either; the set
should stay `[(1, 2), (2, 3)]`. `Interval.open(1, 2).adjacent(Interval.open(2, 3))` also returns
`True` although there is a gap (the point 2) between them. Merging `[1, 2)` with `[2, 3)` into
`[1, 3)` is correct and still works.
""",
    ),
    Bug(
        LIB,
        "split-by-month-december",
        "easy",
        "unhandled-edge-case",
        (
            Edit(
                "spans/daterange.py",
                "            if cursor.month == 12:\n"
                "                next_month = date(cursor.year + 1, 1, 1)\n"
                "            else:\n"
                "                next_month = date(cursor.year, cursor.month + 1, 1)\n",
                "            next_month = date(cursor.year, cursor.month + 1, 1)\n",
            ),
        ),
        """from datetime import date

from spans import DateRange


def test_split_across_new_year():
    r = DateRange(date(2023, 12, 20), date(2024, 1, 10))
    assert r.split_by_month() == [
        DateRange(date(2023, 12, 20), date(2024, 1, 1)),
        DateRange(date(2024, 1, 1), date(2024, 1, 10)),
    ]


def test_split_december_only():
    r = DateRange.month(2024, 12)
    assert r.split_by_month() == [r]
""",
        """split_by_month crashes for ranges that include December

Our monthly report splits the reporting period per month. It worked all year, but now:

```python
>>> from datetime import date
>>> from spans import DateRange
>>> DateRange(date(2023, 12, 20), date(2024, 1, 10)).split_by_month()
Traceback (most recent call last):
  ...
ValueError: month must be in 1..12
```

Even `DateRange.month(2024, 12).split_by_month()` fails. Expected
`[DateRange(2023-12-20, 2024-01-01), DateRange(2024-01-01, 2024-01-10)]`.
""",
    ),
    Bug(
        LIB,
        "business-days-counts-saturday",
        "easy",
        "off-by-one",
        (
            Edit(
                "spans/daterange.py",
                "        if day.weekday() < 5:\n            count += 1\n",
                "        if day.weekday() <= 5:\n            count += 1\n",
            ),
        ),
        """from datetime import date

from spans import DateRange, business_days


def test_partial_week_including_saturday():
    # Thursday 2024-03-07 to Sunday 2024-03-10 (excluded): Thu, Fri, Sat -> 2 business days.
    assert business_days(DateRange(date(2024, 3, 7), date(2024, 3, 10))) == 2


def test_ten_days():
    # Mon 2024-03-04 .. Wed 2024-03-13 inclusive: 8 weekdays.
    assert business_days(DateRange.inclusive(date(2024, 3, 4), date(2024, 3, 13))) == 8


def test_weekend_only():
    assert business_days(DateRange(date(2024, 3, 9), date(2024, 3, 11))) == 0
""",
        """business_days counts Saturdays

```python
>>> from datetime import date
>>> from spans import DateRange, business_days
>>> business_days(DateRange(date(2024, 3, 9), date(2024, 3, 11)))  # Saturday and Sunday
1
>>> business_days(DateRange(date(2024, 3, 7), date(2024, 3, 10)))  # Thu, Fri, Sat
3
```

Expected 0 and 2. Whole weeks come out right (`business_days` of a Monday-to-Sunday week is 5),
which is probably why our tests did not notice; any span that is not a whole number of weeks and
contains a Saturday is off by one.
""",
    ),
    Bug(
        LIB,
        "difference-closed-bounds",
        "hard",
        "wrong-boundary-handling",
        (
            Edit(
                "spans/intervalset.py",
                "        pieces.append(Interval(interval.lower, cut.lower, interval.lower_closed, not cut.lower_closed))\n",
                "        pieces.append(Interval(interval.lower, cut.lower, interval.lower_closed, False))\n",
            ),
            Edit(
                "spans/intervalset.py",
                "        pieces.append(Interval(cut.upper, interval.upper, not cut.upper_closed, interval.upper_closed))\n",
                "        pieces.append(Interval(cut.upper, interval.upper, True, interval.upper_closed))\n",
            ),
        ),
        """from spans import Interval, IntervalSet


def test_difference_with_open_cut_keeps_endpoints():
    result = IntervalSet([Interval.closed(0, 10)]) - IntervalSet([Interval.open(3, 5)])
    assert list(result) == [Interval.closed(0, 3), Interval.closed(5, 10)]
    assert 3 in result and 5 in result


def test_difference_with_closed_cut_drops_endpoints():
    result = IntervalSet([Interval.closed(0, 10)]) - IntervalSet([Interval.closed(3, 5)])
    assert list(result) == [Interval(0, 3), Interval(5, 10, False, True)]
    assert 3 not in result and 5 not in result


def test_complement_of_open_interval():
    s = IntervalSet([Interval.open(2, 4)])
    assert list(s.complement(Interval.closed(0, 10))) == [Interval.closed(0, 2), Interval.closed(4, 10)]
""",
        """Set difference gets the endpoints wrong unless intervals are half-open

Subtracting an open interval should leave its endpoints in the result, and subtracting a closed one
should remove them. Both come out wrong:

```python
>>> from spans import Interval, IntervalSet
>>> r = IntervalSet([Interval.closed(0, 10)]) - IntervalSet([Interval.open(3, 5)])
>>> r
IntervalSet([[0, 3), [5, 10]])
>>> 3 in r
False
>>> r = IntervalSet([Interval.closed(0, 10)]) - IntervalSet([Interval.closed(3, 5)])
>>> 5 in r
True
```

Expected `[0, 3]` and `[5, 10]` for the first case (3 is not in `(3, 5)`), and `[0, 3)` and
`(5, 10]` for the second. `complement()` has the same problem. With the default half-open
intervals everything looks right.
""",
    ),
    Bug(
        LIB,
        "merge-ranges-contained",
        "easy",
        "wrong-logic",
        (
            Edit(
                "spans/daterange.py",
                "            merged[-1] = DateRange(merged[-1].start, max(merged[-1].end, item.end))\n",
                "            merged[-1] = DateRange(merged[-1].start, item.end)\n",
            ),
        ),
        """from datetime import date

from spans.daterange import DateRange, merge_ranges


def test_merge_range_inside_another():
    outer = DateRange(date(2024, 3, 1), date(2024, 3, 31))
    inner = DateRange(date(2024, 3, 10), date(2024, 3, 12))
    assert merge_ranges([outer, inner]) == [outer]


def test_merge_three_with_nested():
    ranges = [
        DateRange(date(2024, 1, 1), date(2024, 1, 20)),
        DateRange(date(2024, 1, 5), date(2024, 1, 6)),
        DateRange(date(2024, 1, 19), date(2024, 1, 25)),
    ]
    assert merge_ranges(ranges) == [DateRange(date(2024, 1, 1), date(2024, 1, 25))]
""",
        """merge_ranges loses days when one range lies inside another

I merge the vacation periods of a team to find the days when someone is away:

```python
>>> from datetime import date
>>> from spans.daterange import DateRange, merge_ranges
>>> merge_ranges([DateRange(date(2024, 3, 1), date(2024, 3, 31)),
...               DateRange(date(2024, 3, 10), date(2024, 3, 12))])
[DateRange(2024-03-01, 2024-03-12)]
```

The first range covers the whole month and the second lies within it, so the result should be
`[DateRange(2024-03-01, 2024-03-31)]`. Overlapping and back-to-back ranges merge fine.
""",
    ),
    Bug(
        LIB,
        "intersection-shared-lower-bound",
        "medium",
        "wrong-condition",
        (
            Edit(
                "spans/interval.py",
                "    return a.lower, a.lower_closed and b.lower_closed\n",
                "    return a.lower, a.lower_closed or b.lower_closed\n",
            ),
        ),
        """from spans import Interval, IntervalSet


def test_intersection_same_lower_bound_open_wins():
    common = Interval.closed(1, 5).intersection(Interval.open(1, 5))
    assert common == Interval.open(1, 5)
    assert 1 not in common


def test_interval_set_intersection_same_start():
    a = IntervalSet([Interval(0, 10)])
    b = IntervalSet([Interval(0, 4, lower_closed=False)])
    assert 0 not in (a & b)
""",
        """Intersection contains the shared start point when one side excludes it

```python
>>> from spans import Interval
>>> common = Interval.closed(1, 5).intersection(Interval.open(1, 5))
>>> common
[1, 5)
>>> 1 in common
True
```

1 is not in `(1, 5)`, so it cannot be in the intersection; expected `(1, 5)`. The end point is
handled right (`5` is excluded). The same thing happens with `IntervalSet` intersection (`&`).
""",
    ),
]
