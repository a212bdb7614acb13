from datetime import date

import pytest

from spans import DateRange, business_days
from spans.daterange import merge_ranges


def d(text):
    return date.fromisoformat(text)


def test_len_and_iter():
    r = DateRange(d("2024-03-01"), d("2024-03-04"))
    assert len(r) == 3
    assert list(r) == [d("2024-03-01"), d("2024-03-02"), d("2024-03-03")]


def test_inclusive():
    assert len(DateRange.inclusive(d("2024-03-01"), d("2024-03-01"))) == 1


def test_end_before_start():
    with pytest.raises(ValueError):
        DateRange(d("2024-03-02"), d("2024-03-01"))


def test_month():
    r = DateRange.month(2024, 2)
    assert len(r) == 29 and r.last == d("2024-02-29")


def test_week_of():
    r = DateRange.week_of(d("2024-03-06"))
    assert r.start == d("2024-03-04") and len(r) == 7


def test_contains():
    r = DateRange(d("2024-03-01"), d("2024-03-04"))
    assert d("2024-03-03") in r and d("2024-03-04") not in r


def test_step():
    r = DateRange(d("2024-03-01"), d("2024-03-08"))
    assert list(r.days(3)) == [d("2024-03-01"), d("2024-03-04"), d("2024-03-07")]


def test_overlap():
    a = DateRange(d("2024-03-01"), d("2024-03-10"))
    b = DateRange(d("2024-03-05"), d("2024-03-20"))
    assert a.overlap(b) == DateRange(d("2024-03-05"), d("2024-03-10"))


def test_no_overlap_back_to_back():
    a = DateRange(d("2024-03-01"), d("2024-03-10"))
    b = DateRange(d("2024-03-10"), d("2024-03-20"))
    assert a.overlap(b) is None


def test_shift():
    assert DateRange(d("2024-03-01"), d("2024-03-02")).shift(2).start == d("2024-03-03")


def test_split_by_month():
    r = DateRange(d("2024-01-20"), d("2024-03-05"))
    assert [len(p) for p in r.split_by_month()] == [12, 29, 4]


def test_weeks():
    r = DateRange(d("2024-03-06"), d("2024-03-20"))
    assert [len(p) for p in r.weeks()] == [5, 7, 2]


def test_business_days_week():
    assert business_days(DateRange(d("2024-03-04"), d("2024-03-11"))) == 5


def test_business_days_with_holiday():
    span = DateRange(d("2024-03-04"), d("2024-03-11"))
    assert business_days(span, [d("2024-03-05"), d("2024-03-09")]) == 4


def test_merge_ranges():
    merged = merge_ranges(
        [DateRange(d("2024-03-05"), d("2024-03-08")), DateRange(d("2024-03-01"), d("2024-03-05"))]
    )
    assert merged == [DateRange(d("2024-03-01"), d("2024-03-08"))]
