"""durata: parse and format human-readable durations such as ``1h 30m`` or ``2:05``."""

from durata.errors import DurationError, UnknownUnitError
from durata.formatter import format_clock, format_duration
from durata.parser import parse_duration
from durata.units import UNITS, unit_seconds

__all__ = [
    "UNITS",
    "DurationError",
    "UnknownUnitError",
    "format_clock",
    "format_duration",
    "parse_duration",
    "unit_seconds",
]

__version__ = "1.0.0"
