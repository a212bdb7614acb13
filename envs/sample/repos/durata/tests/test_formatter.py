import pytest

from durata import DurationError, format_clock, format_duration, parse_duration


def test_format_basic():
    assert format_duration(5400) == "1h 30m"
    assert format_duration(0) == "0s"
    assert format_duration(0.25) == "250ms"
    assert format_duration(694861) == "1w 1d 1h 1m 1s"


def test_format_negative():
    assert format_duration(-300) == "-5m"


def test_format_max_units_and_separator():
    assert format_duration(694861, max_units=2) == "1w 1d"
    assert format_duration(3723, separator="") == "1h2m3s"
    with pytest.raises(DurationError):
        format_duration(10, max_units=0)


def test_format_clock():
    assert format_clock(3723) == "1:02:03"
    assert format_clock(59.6) == "0:01:00"
    assert format_clock(-90) == "-0:01:30"


@pytest.mark.parametrize("seconds", [1, 61, 3600, 90061, 604800 + 0.5])
def test_roundtrip_positive(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
