"""Unit names and their length in seconds."""

from durata.errors import UnknownUnitError

# Canonical unit symbol -> seconds, largest first (the formatter relies on this order).
UNITS = {
    "w": 7 * 24 * 3600,
    "d": 24 * 3600,
    "h": 3600,
    "m": 60,
    "s": 1,
    "ms": 0.001,
}

_ALIASES = {
    "w": ("wk", "wks", "week", "weeks"),
    "d": ("day", "days"),
    "h": ("hr", "hrs", "hour", "hours"),
    "m": ("min", "mins", "minute", "minutes"),
    "s": ("sec", "secs", "second", "seconds"),
    "ms": ("msec", "msecs", "millisecond", "milliseconds"),
}

_LOOKUP = {alias: symbol for symbol, aliases in _ALIASES.items() for alias in (symbol, *aliases)}


def canonical_unit(name):
    """Return the canonical symbol for a unit name (case-insensitive, except ``m`` vs ``M``)."""
    key = name if name in _LOOKUP else name.lower()
    try:
        return _LOOKUP[key]
    except KeyError:
        raise UnknownUnitError(name) from None


def unit_seconds(name):
    """Return how many seconds one ``name`` lasts."""
    return UNITS[canonical_unit(name)]
