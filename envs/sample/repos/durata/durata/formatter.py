"""Turn a number of seconds back into text."""

from durata.errors import DurationError
from durata.units import UNITS


def _split(milliseconds):
    """Split a non-negative whole number of milliseconds into (symbol, amount) pairs."""
    parts = []
    for symbol, seconds in UNITS.items():
        size = round(seconds * 1000)
        amount, milliseconds = divmod(milliseconds, size)
        if amount:
            parts.append((symbol, amount))
    return parts


def format_duration(seconds, max_units=None, separator=" "):
    """Format ``seconds`` as ``"1h 30m"``; ``max_units`` keeps only the largest units."""
    if max_units is not None and max_units < 1:
        raise DurationError(f"max_units must be at least 1, got {max_units}")
    milliseconds = round(abs(seconds) * 1000)
    parts = _split(milliseconds)
    if not parts:
        return "0s"
    if max_units is not None:
        parts = parts[:max_units]
    sign = "-" if seconds < 0 else ""
    return sign + separator.join(f"{amount}{symbol}" for symbol, amount in parts)


def format_clock(seconds):
    """Format ``seconds`` as ``"H:MM:SS"`` (hours are not wrapped at 24)."""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
