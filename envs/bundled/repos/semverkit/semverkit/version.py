"""Semantic versions (semver 2.0.0): parsing, precedence and bumping."""

from __future__ import annotations

import re
from typing import Tuple, Union

from .errors import InvalidVersion

Identifier = Union[int, str]

_VERSION_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def _parse_prerelease(text: str) -> Tuple[Identifier, ...]:
    identifiers = []
    for ident in text.split("."):
        if ident.isdigit():
            if len(ident) > 1 and ident.startswith("0"):
                raise InvalidVersion(f"numeric identifier {ident!r} has a leading zero")
            identifiers.append(int(ident))
        else:
            identifiers.append(ident)
    return tuple(identifiers)


def _identifier_key(ident: Identifier) -> Tuple[int, int, str]:
    # Numeric identifiers compare numerically and rank below alphanumeric ones (semver 11.4).
    if isinstance(ident, int):
        return (0, ident, "")
    return (1, 0, ident)


class Version:
    """An immutable semantic version; build metadata is kept but ignored for precedence."""

    __slots__ = ("build", "major", "minor", "patch", "prerelease")

    def __init__(self, major, minor, patch, prerelease=(), build=()):
        if min(major, minor, patch) < 0:
            raise InvalidVersion("version numbers must not be negative")
        object.__setattr__(self, "major", int(major))
        object.__setattr__(self, "minor", int(minor))
        object.__setattr__(self, "patch", int(patch))
        object.__setattr__(self, "prerelease", tuple(prerelease))
        object.__setattr__(self, "build", tuple(build))

    def __setattr__(self, name, value):
        raise AttributeError("Version is immutable")

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = _VERSION_RE.match(text.strip())
        if match is None:
            raise InvalidVersion(f"not a semantic version: {text!r}")
        pre = match.group("pre")
        build = match.group("build")
        return cls(
            int(match.group("major")),
            int(match.group("minor")),
            int(match.group("patch")),
            _parse_prerelease(pre) if pre else (),
            tuple(build.split(".")) if build else (),
        )

    @property
    def core(self) -> Tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def _key(self):
        if not self.prerelease:
            return (self.core, 1, ())
        return (self.core, 0, tuple(_identifier_key(i) for i in self.prerelease))

    def __eq__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() >= other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(i) for i in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"

    def bump_major(self) -> "Version":
        if self.prerelease and self.minor == 0 and self.patch == 0:
            return Version(self.major, 0, 0)
        return Version(self.major + 1, 0, 0)

    def bump_minor(self) -> "Version":
        if self.prerelease and self.patch == 0:
            return Version(self.major, self.minor, 0)
        return Version(self.major, self.minor + 1, 0)

    def bump_patch(self) -> "Version":
        # A pre-release of x.y.z is released as x.y.z itself.
        if self.prerelease:
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)

    def bump_prerelease(self, label: str = "rc") -> "Version":
        """Next pre-release: 1.2.3 -> 1.2.4-rc.0, 1.2.4-rc.0 -> 1.2.4-rc.1."""
        if not self.prerelease:
            return Version(self.major, self.minor, self.patch + 1, (label, 0))
        last = self.prerelease[-1]
        if isinstance(last, int):
            return Version(self.major, self.minor, self.patch, self.prerelease[:-1] + (last + 1,))
        return Version(self.major, self.minor, self.patch, self.prerelease + (0,))

    def without_build(self) -> "Version":
        return Version(self.major, self.minor, self.patch, self.prerelease)


def max_satisfying(versions, predicate):
    """The highest version in ``versions`` for which ``predicate`` holds, or None."""
    best = None
    for version in versions:
        if predicate(version) and (best is None or version > best):
            best = version
    return best
