"""Cell values: type inference from text, canonical text output and display width."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
NULLS = {"", "null", "none", "na", "n/a"}
TRUE = {"true", "yes"}
FALSE = {"false", "no"}


def infer(text: str) -> Any:
    """Turn a cell's text into None, bool, int, float or (failing those) the stripped text."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in NULLS:
        return None
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    if _INT_RE.match(stripped):
        return int(stripped)
    if _FLOAT_RE.match(stripped):
        return float(stripped)
    return stripped


def format_value(value: Any) -> str:
    """The text a value is written as: None is empty, booleans are lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) else f"{value:.1f}"
    return str(value)


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide East Asian characters count twice."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, align: str) -> str:
    gap = max(width - display_width(text), 0)
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    return text + " " * gap


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
