"""semverkit: semantic versions, range constraints and a small dependency resolver."""

from .constraint import Constraint, parse_constraint
from .errors import InvalidConstraint, InvalidVersion, ResolutionError, SemverError
from .resolver import Registry, resolve
from .version import Version

__all__ = [
    "Constraint",
    "InvalidConstraint",
    "InvalidVersion",
    "Registry",
    "ResolutionError",
    "SemverError",
    "Version",
    "parse_constraint",
    "resolve",
]
