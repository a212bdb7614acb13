"""One interval over any ordered type, with independently open or closed ends."""

from __future__ import annotations

from typing import Any, Optional


class EmptyIntervalError(ValueError):
    """An operation needs a non-empty interval."""


class Interval:
    """``[lower, upper)`` by default; ``lower_closed`` / ``upper_closed`` choose the brackets."""

    __slots__ = ("lower", "lower_closed", "upper", "upper_closed")

    def __init__(self, lower: Any, upper: Any, lower_closed: bool = True, upper_closed: bool = False):
        if upper < lower:
            raise ValueError(f"upper bound {upper!r} is below lower bound {lower!r}")
        self.lower = lower
        self.upper = upper
        self.lower_closed = lower_closed
        self.upper_closed = upper_closed

    @classmethod
    def closed(cls, lower, upper) -> "Interval":
        return cls(lower, upper, True, True)

    @classmethod
    def open(cls, lower, upper) -> "Interval":
        return cls(lower, upper, False, False)

    @classmethod
    def point(cls, value) -> "Interval":
        return cls(value, value, True, True)

    @property
    def empty(self) -> bool:
        return self.lower == self.upper and not (self.lower_closed and self.upper_closed)

    @property
    def length(self):
        return self.upper - self.lower

    def __contains__(self, value) -> bool:
        if value < self.lower or value > self.upper:
            return False
        if value == self.lower and not self.lower_closed:
            return False
        if value == self.upper and not self.upper_closed:
            return False
        return True

    def contains_interval(self, other: "Interval") -> bool:
        if other.empty:
            return True
        low_ok = self.lower < other.lower or (
            self.lower == other.lower and (self.lower_closed or not other.lower_closed)
        )
        high_ok = other.upper < self.upper or (
            self.upper == other.upper and (self.upper_closed or not other.upper_closed)
        )
        return low_ok and high_ok

    def overlaps(self, other: "Interval") -> bool:
        """True when the two intervals share at least one point."""
        if self.empty or other.empty:
            return False
        if self.upper < other.lower or other.upper < self.lower:
            return False
        if self.upper == other.lower:
            return self.upper_closed and other.lower_closed
        if other.upper == self.lower:
            return other.upper_closed and self.lower_closed
        return True

    def adjacent(self, other: "Interval") -> bool:
        """True when the intervals touch without overlapping, e.g. ``[1, 2)`` and ``[2, 3]``."""
        if self.upper == other.lower:
            return self.upper_closed != other.lower_closed
        if other.upper == self.lower:
            return other.upper_closed != self.lower_closed
        return False

    def intersection(self, other: "Interval") -> Optional["Interval"]:
        if not self.overlaps(other):
            return None
        lower, lower_closed = _max_lower(self, other)
        upper, upper_closed = _min_upper(self, other)
        return Interval(lower, upper, lower_closed, upper_closed)

    def hull(self, other: "Interval") -> "Interval":
        """The smallest interval covering both."""
        lower, lower_closed = _min_lower(self, other)
        upper, upper_closed = _max_upper(self, other)
        return Interval(lower, upper, lower_closed, upper_closed)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        if self.empty and other.empty:
            return True
        return (self.lower, self.upper, self.lower_closed, self.upper_closed) == (
            other.lower,
            other.upper,
            other.lower_closed,
            other.upper_closed,
        )

    def __hash__(self) -> int:
        return hash((self.lower, self.upper, self.lower_closed, self.upper_closed))

    def __repr__(self) -> str:
        left = "[" if self.lower_closed else "("
        right = "]" if self.upper_closed else ")"
        return f"{left}{self.lower!r}, {self.upper!r}{right}"

    def sort_key(self):
        return (self.lower, not self.lower_closed, self.upper, self.upper_closed)


def _max_lower(a: Interval, b: Interval):
    if a.lower != b.lower:
        return (a.lower, a.lower_closed) if a.lower > b.lower else (b.lower, b.lower_closed)
    return a.lower, a.lower_closed and b.lower_closed


def _min_upper(a: Interval, b: Interval):
    if a.upper != b.upper:
        return (a.upper, a.upper_closed) if a.upper < b.upper else (b.upper, b.upper_closed)
    return a.upper, a.upper_closed and b.upper_closed


def _min_lower(a: Interval, b: Interval):
    if a.lower != b.lower:
        return (a.lower, a.lower_closed) if a.lower < b.lower else (b.lower, b.lower_closed)
    return a.lower, a.lower_closed or b.lower_closed


def _max_upper(a: Interval, b: Interval):
    if a.upper != b.upper:
        return (a.upper, a.upper_closed) if a.upper > b.upper else (b.upper, b.upper_closed)
    return a.upper, a.upper_closed or b.upper_closed
