"""Exceptions raised by durata."""


class DurationError(ValueError):
    """A duration string could not be parsed or a value could not be formatted."""


class UnknownUnitError(DurationError):
    """A duration component used a unit name durata does not know."""

    def __init__(self, unit):
        super().__init__(f"unknown duration unit: {unit!r}")
        self.unit = unit
