"""spans: intervals with open/closed bounds, normalized interval sets and date ranges."""

from .daterange import DateRange, business_days
from .interval import EmptyIntervalError, Interval
from .intervalset import IntervalSet

__all__ = ["DateRange", "EmptyIntervalError", "Interval", "IntervalSet", "business_days"]
