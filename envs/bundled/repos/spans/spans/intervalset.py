"""A set of points stored as sorted, disjoint, non-adjacent intervals."""

from __future__ import annotations

from typing import Iterable, Iterator, List

from .interval import Interval


def normalize(intervals: Iterable[Interval]) -> List[Interval]:
    """Sort, drop empties and merge intervals that overlap or touch."""
    items = sorted((i for i in intervals if not i.empty), key=Interval.sort_key)
    merged: List[Interval] = []
    for interval in items:
        if merged and (merged[-1].overlaps(interval) or merged[-1].adjacent(interval)):
            merged[-1] = merged[-1].hull(interval)
        else:
            merged.append(interval)
    return merged


def _subtract(interval: Interval, cut: Interval) -> List[Interval]:
    if not interval.overlaps(cut):
        return [interval]
    pieces = []
    if interval.lower < cut.lower or (interval.lower == cut.lower and interval.lower_closed and not cut.lower_closed):
        pieces.append(Interval(interval.lower, cut.lower, interval.lower_closed, not cut.lower_closed))
    if cut.upper < interval.upper or (cut.upper == interval.upper and interval.upper_closed and not cut.upper_closed):
        pieces.append(Interval(cut.upper, interval.upper, not cut.upper_closed, interval.upper_closed))
    return [piece for piece in pieces if not piece.empty]


class IntervalSet:
    def __init__(self, intervals: Iterable[Interval] = ()):
        self._intervals = normalize(intervals)

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._intervals)

    def __len__(self) -> int:
        return len(self._intervals)

    def __bool__(self) -> bool:
        return bool(self._intervals)

    def __eq__(self, other) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._intervals == other._intervals

    def __repr__(self) -> str:
        return f"IntervalSet({self._intervals!r})"

    def __contains__(self, value) -> bool:
        return any(value in interval for interval in self._intervals)

    def add(self, interval: Interval) -> None:
        self._intervals = normalize([*self._intervals, interval])

    def union(self, other: "IntervalSet") -> "IntervalSet":
        return IntervalSet([*self._intervals, *other._intervals])

    def intersection(self, other: "IntervalSet") -> "IntervalSet":
        pieces = []
        for a in self._intervals:
            for b in other._intervals:
                common = a.intersection(b)
                if common is not None:
                    pieces.append(common)
        return IntervalSet(pieces)

    def difference(self, other: "IntervalSet") -> "IntervalSet":
        remaining = list(self._intervals)
        for cut in other._intervals:
            next_remaining = []
            for interval in remaining:
                next_remaining.extend(_subtract(interval, cut))
            remaining = next_remaining
        return IntervalSet(remaining)

    def complement(self, within: Interval) -> "IntervalSet":
        return IntervalSet([within]).difference(self)

    def total_length(self):
        total = None
        for interval in self._intervals:
            total = interval.length if total is None else total + interval.length
        return total if total is not None else 0

    def gaps(self) -> List[Interval]:
        """The holes between consecutive intervals."""
        holes = []
        for left, right in zip(self._intervals, self._intervals[1:]):
            holes.append(Interval(left.upper, right.lower, not left.upper_closed, not right.lower_closed))
        return holes

    __or__ = union
    __and__ = intersection
    __sub__ = difference
