"""Exceptions raised by semverkit."""


class SemverError(ValueError):
    """Base class for every semverkit error."""


class InvalidVersion(SemverError):
    """A string is not a valid semantic version."""


class InvalidConstraint(SemverError):
    """A string is not a valid version constraint."""


class ResolutionError(SemverError):
    """No set of versions satisfies the requirements."""
