"""Built-in filters: ``{{ name|upper }}``, ``{{ items|join(", ") }}``."""

from __future__ import annotations

from typing import Any, Callable, Dict

from .expr import MISSING


class Markup(str):
    """A string that is already safe HTML and must not be escaped again."""


def escape(value: Any) -> Markup:
    if isinstance(value, Markup):
        return value
    text = str(value)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        text = text.replace(char, entity)
    return Markup(text)


def default(value: Any, fallback: Any = "", boolean: bool = False) -> Any:
    """``fallback`` when ``value`` is undefined (or, with ``boolean``, merely falsy)."""
    if value is MISSING or value is None:
        return fallback
    if boolean and not value:
        return fallback
    return value


def truncate(value: Any, length: int = 80, end: str = "...") -> str:
    """Cut to at most ``length`` characters including ``end``."""
    text = str(value)
    if len(text) <= length:
        return text
    return text[: max(length - len(end), 0)] + end


def join(value: Any, separator: str = "") -> str:
    return separator.join(str(item) for item in value)


def length(value: Any) -> int:
    return len(value) if value is not MISSING else 0


def first(value: Any) -> Any:
    for item in value:
        return item
    return MISSING


def last(value: Any) -> Any:
    items = list(value)
    return items[-1] if items else MISSING


def title(value: Any) -> str:
    return " ".join(word[:1].upper() + word[1:].lower() for word in str(value).split(" "))


def replace(value: Any, old: str, new: str) -> str:
    return str(value).replace(old, new)


def pluralize(count: Any, singular: str = "", plural: str = "s") -> str:
    return singular if count == 1 else plural


def safe(value: Any) -> Markup:
    return Markup(str(value))


FILTERS: Dict[str, Callable[..., Any]] = {
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "strip": lambda v: str(v).strip(),
    "title": title,
    "escape": escape,
    "e": escape,
    "safe": safe,
    "default": default,
    "d": default,
    "truncate": truncate,
    "join": join,
    "length": length,
    "first": first,
    "last": last,
    "replace": replace,
    "pluralize": pluralize,
    "sort": lambda v: sorted(v),
    "reverse": lambda v: list(reversed(list(v))),
}


def register_filter(name: str, func: Callable[..., Any]) -> None:
    FILTERS[name] = func
