"""Turn duration strings into a number of seconds.

Accepted forms:

* a bare number, read as seconds: ``"90"``, ``"2.5"``
* one or more ``<number><unit>`` components, optionally separated by spaces or commas:
  ``"1h30m"``, ``"2 days, 4 hours"``, ``"1.5h"``
* a clock: ``"M:SS"`` or ``"H:MM:SS"``
* any of the above with a leading ``+`` or ``-`` that applies to the whole duration.
"""

import re

from durata.errors import DurationError
from durata.units import unit_seconds

_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_COMPONENT = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]+)\s*,?")
_CLOCK = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?")


def _split_sign(text):
    """Split a leading sign off ``text``; the sign applies to every component."""
    if text[:1] in "+-":
        return text[0], text[1:].lstrip()
    return "+", text


def _parse_clock(match):
    first, second, third = match.groups()
    if third is None:  # M:SS
        return int(first) * 60 + int(second)
    return int(first) * 3600 + int(second) * 60 + float(third)


def _parse_components(text, original):
    total = 0.0
    seen = set()
    pos = 0
    while pos < len(text):
        match = _COMPONENT.match(text, pos)
        if match is None or match.end() == pos:
            raise DurationError(f"cannot parse duration {original!r} at position {pos}")
        number, unit = match.groups()
        factor = unit_seconds(unit)
        if factor in seen:
            raise DurationError(f"unit {unit!r} appears twice in {original!r}")
        seen.add(factor)
        total += float(number) * factor
        pos = match.end()
    return total


def parse_duration(text):
    """Parse ``text`` and return the duration in seconds (a float)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise DurationError("empty duration string")
    sign, body = _split_sign(stripped)
    if not body:
        raise DurationError(f"no value after the sign in {text!r}")
    if _NUMBER.fullmatch(body):
        seconds = float(body)
    elif (clock := _CLOCK.fullmatch(body)) is not None:
        seconds = float(_parse_clock(clock))
    else:
        seconds = _parse_components(body, text)
    return -seconds if sign == "-" else seconds
