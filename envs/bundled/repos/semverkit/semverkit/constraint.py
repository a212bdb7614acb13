"""Version constraints in the npm range syntax: ``^1.2``, ``~1.2.3``, ``>=1 <2``, ``1.x``, ``a - b``, ``||``."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from .errors import InvalidConstraint
from .version import Version

_PARTIAL_RE = re.compile(
    r"^v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?$"
)
_OPERATORS = (">=", "<=", ">", "<", "=", "^", "~")


class Comparator:
    """One primitive comparison such as ``>=1.2.0``."""

    def __init__(self, op: str, version: Version):
        self.op = op
        self.version = version

    def matches(self, version: Version) -> bool:
        if self.op == ">=":
            return version >= self.version
        if self.op == "<=":
            return version <= self.version
        if self.op == ">":
            return version > self.version
        if self.op == "<":
            return version < self.version
        return version == self.version

    def __repr__(self) -> str:
        return f"{self.op}{self.version}"


def _partial(text: str) -> Tuple[Optional[int], Optional[int], Optional[int], tuple]:
    """Parse a possibly partial version; missing or wildcard parts are None."""
    match = _PARTIAL_RE.match(text)
    if match is None:
        raise InvalidConstraint(f"not a version in a constraint: {text!r}")
    parts = []
    for name in ("major", "minor", "patch"):
        value = match.group(name)
        parts.append(None if value is None or value in "xX*" else int(value))
    for index in (1, 2):
        if parts[index - 1] is None:
            parts[index] = None
    pre = match.group("pre")
    prerelease = Version.parse(f"0.0.0-{pre}").prerelease if pre else ()
    return parts[0], parts[1], parts[2], prerelease


def _floor(major, minor, patch, pre=()) -> Version:
    return Version(major or 0, minor or 0, patch or 0, pre if patch is not None else ())


def _expand_caret(major, minor, patch, pre) -> List[Comparator]:
    if major is None:
        return []
    low = Comparator(">=", _floor(major, minor, patch, pre))
    if major > 0 or minor is None:
        high = Version(major + 1, 0, 0, (0,))
    elif minor > 0 or patch is None:
        high = Version(0, minor + 1, 0, (0,))
    else:
        high = Version(0, 0, patch + 1, (0,))
    return [low, Comparator("<", high)]


def _expand_tilde(major, minor, patch, pre) -> List[Comparator]:
    if major is None:
        return []
    low = Comparator(">=", _floor(major, minor, patch, pre))
    if minor is None:
        high = Version(major + 1, 0, 0, (0,))
    else:
        high = Version(major, minor + 1, 0, (0,))
    return [low, Comparator("<", high)]


def _expand_wildcard(major, minor, patch, pre) -> List[Comparator]:
    if major is None:
        return []
    if minor is None:
        return [Comparator(">=", Version(major, 0, 0)), Comparator("<", Version(major + 1, 0, 0, (0,)))]
    if patch is None:
        return [
            Comparator(">=", Version(major, minor, 0)),
            Comparator("<", Version(major, minor + 1, 0, (0,))),
        ]
    return [Comparator("=", Version(major, minor, patch, pre))]


def _expand_operator(op, major, minor, patch, pre) -> List[Comparator]:
    if major is None:
        return [] if op in (">=", "<=", "=") else [Comparator("<", Version(0, 0, 0, (0,)))]
    if op in (">=", "<") or patch is not None:
        return [Comparator(op, _floor(major, minor, patch, pre))]
    # Partial upper bounds such as ``<=1.2`` or ``>1.2`` refer to the whole 1.2.x series.
    upper = Version(major + 1, 0, 0, (0,)) if minor is None else Version(major, minor + 1, 0, (0,))
    if op == "<=":
        return [Comparator("<", upper)]
    return [Comparator(">=", upper)]


def _expand_hyphen(low_text: str, high_text: str) -> List[Comparator]:
    low = _partial(low_text)
    high_major, high_minor, high_patch, high_pre = _partial(high_text)
    comparators = [Comparator(">=", _floor(*low))] if low[0] is not None else []
    if high_major is None:
        return comparators
    if high_patch is not None:
        comparators.append(Comparator("<=", Version(high_major, high_minor, high_patch, high_pre)))
    elif high_minor is not None:
        comparators.append(Comparator("<", Version(high_major, high_minor + 1, 0, (0,))))
    else:
        comparators.append(Comparator("<", Version(high_major + 1, 0, 0, (0,))))
    return comparators


def _parse_term(term: str) -> List[Comparator]:
    for op in _OPERATORS:
        if term.startswith(op):
            major, minor, patch, pre = _partial(term[len(op) :].strip())
            if op == "^":
                return _expand_caret(major, minor, patch, pre)
            if op == "~":
                return _expand_tilde(major, minor, patch, pre)
            if op == "=":
                return _expand_wildcard(major, minor, patch, pre)
            return _expand_operator(op, major, minor, patch, pre)
    return _expand_wildcard(*_partial(term))


def _parse_set(text: str) -> List[Comparator]:
    text = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", text.strip())
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        return _expand_hyphen(hyphen.group(1), hyphen.group(2))
    comparators: List[Comparator] = []
    for term in text.split():
        comparators.extend(_parse_term(term))
    return comparators


class Constraint:
    """A union (``||``) of comparator sets; a version matches when one whole set matches."""

    def __init__(self, text: str):
        self.text = text
        if not text.strip():
            self.sets: List[List[Comparator]] = [[]]
        else:
            self.sets = [_parse_set(part) for part in text.split("||")]
        if any(part.strip() == "" for part in text.split("||")) and text.strip():
            raise InvalidConstraint(f"empty alternative in constraint {text!r}")

    def allows(self, version: Version, include_prerelease: bool = False) -> bool:
        return any(self._set_allows(cset, version, include_prerelease) for cset in self.sets)

    @staticmethod
    def _set_allows(cset: List[Comparator], version: Version, include_prerelease: bool) -> bool:
        if not all(comparator.matches(version) for comparator in cset):
            return False
        if not version.is_prerelease or include_prerelease:
            return True
        # A pre-release only matches when the range names a pre-release of the same x.y.z,
        # so ``>=1.2.3-beta`` lets in 1.2.3-rc.1 but not 1.3.0-alpha.
        return any(c.version.is_prerelease and c.version.core == version.core for c in cset)

    def filter(self, versions, include_prerelease: bool = False):
        return [v for v in versions if self.allows(v, include_prerelease)]

    def best(self, versions, include_prerelease: bool = False) -> Optional[Version]:
        allowed = self.filter(versions, include_prerelease)
        return max(allowed) if allowed else None

    def __contains__(self, version) -> bool:
        if isinstance(version, str):
            version = Version.parse(version)
        return self.allows(version)

    def __repr__(self) -> str:
        return f"Constraint({self.text!r})"


def parse_constraint(text: str) -> Constraint:
    return Constraint(text)
