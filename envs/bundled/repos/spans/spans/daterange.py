"""Calendar date ranges: half-open ``[start, end)`` spans of whole days."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Iterable, Iterator, List, Optional

ONE_DAY = timedelta(days=1)


class DateRange:
    """Days from ``start`` (included) to ``end`` (excluded)."""

    __slots__ = ("end", "start")

    def __init__(self, start: date, end: date):
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self.start = start
        self.end = end

    @classmethod
    def inclusive(cls, first: date, last: date) -> "DateRange":
        """The range from ``first`` to ``last``, both days included."""
        return cls(first, last + ONE_DAY)

    @classmethod
    def month(cls, year: int, month: int) -> "DateRange":
        days = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, days) + ONE_DAY)

    @classmethod
    def week_of(cls, day: date) -> "DateRange":
        """The Monday-to-Sunday week containing ``day``."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=7))

    def __len__(self) -> int:
        return (self.end - self.start).days

    def __iter__(self) -> Iterator[date]:
        return self.days()

    def days(self, step: int = 1) -> Iterator[date]:
        if step < 1:
            raise ValueError("step must be positive")
        current = self.start
        while current < self.end:
            yield current
            current += timedelta(days=step)

    @property
    def last(self) -> Optional[date]:
        return self.end - ONE_DAY if self.end > self.start else None

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def __eq__(self, other) -> bool:
        if not isinstance(other, DateRange):
            return NotImplemented
        return (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))

    def __repr__(self) -> str:
        return f"DateRange({self.start.isoformat()}, {self.end.isoformat()})"

    def overlaps(self, other: "DateRange") -> bool:
        return self.start < other.end and other.start < self.end

    def overlap(self, other: "DateRange") -> Optional["DateRange"]:
        if not self.overlaps(other):
            return None
        return DateRange(max(self.start, other.start), min(self.end, other.end))

    def shift(self, days: int) -> "DateRange":
        delta = timedelta(days=days)
        return DateRange(self.start + delta, self.end + delta)

    def split_by_month(self) -> List["DateRange"]:
        """Cut the range at month boundaries."""
        pieces = []
        cursor = self.start
        while cursor < self.end:
            if cursor.month == 12:
                next_month = date(cursor.year + 1, 1, 1)
            else:
                next_month = date(cursor.year, cursor.month + 1, 1)
            piece_end = min(next_month, self.end)
            pieces.append(DateRange(cursor, piece_end))
            cursor = piece_end
        return pieces

    def weeks(self) -> List["DateRange"]:
        """Cut the range at Mondays."""
        pieces = []
        cursor = self.start
        while cursor < self.end:
            next_monday = cursor + timedelta(days=7 - cursor.weekday())
            piece_end = min(next_monday, self.end)
            pieces.append(DateRange(cursor, piece_end))
            cursor = piece_end
        return pieces


def business_days(span: DateRange, holidays: Iterable[date] = ()) -> int:
    """Weekdays in ``span`` that are not holidays."""
    closed = set(holidays)
    full_weeks, remainder = divmod(len(span), 7)
    count = full_weeks * 5
    for offset in range(remainder):
        day = span.start + timedelta(days=full_weeks * 7 + offset)
        if day.weekday() < 5:
            count += 1
    count -= sum(1 for day in closed if day in span and day.weekday() < 5)
    return count


def merge_ranges(ranges: Iterable[DateRange]) -> List[DateRange]:
    """Merge overlapping or back-to-back ranges."""
    merged: List[DateRange] = []
    for item in sorted(ranges, key=lambda r: (r.start, r.end)):
        if merged and item.start <= merged[-1].end:
            merged[-1] = DateRange(merged[-1].start, max(merged[-1].end, item.end))
        else:
            merged.append(item)
    return merged
