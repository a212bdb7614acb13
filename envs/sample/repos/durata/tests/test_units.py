import pytest

from durata import UNITS, UnknownUnitError, unit_seconds
from durata.units import canonical_unit


def test_units_are_ordered_largest_first():
    sizes = list(UNITS.values())
    assert sizes == sorted(sizes, reverse=True)


def test_canonical_unit():
    assert canonical_unit("hrs") == "h"
    assert canonical_unit("MS") == "ms"
    assert canonical_unit("Minutes") == "m"
    assert unit_seconds("day") == 86400


def test_unknown_unit_error_message():
    with pytest.raises(UnknownUnitError, match="parsecs"):
        unit_seconds("parsecs")
