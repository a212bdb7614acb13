import pytest

from durata import DurationError, UnknownUnitError, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("2.5", 2.5),
        ("45s", 45.0),
        ("1h30m", 5400.0),
        ("2 days, 4 hours", 187200.0),
        ("1.5h", 5400.0),
        ("1w 1d", 691200.0),
        ("250ms", 0.25),
    ],
    ids=["bare", "bare-float", "seconds", "compact", "words", "fraction", "weeks", "millis"],
)
def test_parse_positive(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_clock_forms():
    assert parse_duration("2:05") == 125.0
    assert parse_duration("1:02:03") == 3723.0
    assert parse_duration("0:00:01.5") == 1.5


def test_parse_single_negative_component():
    assert parse_duration("-5m") == -300.0
    assert parse_duration("-90") == -90.0
    assert parse_duration("-1:30") == -90.0


def test_parse_unit_aliases_and_case():
    assert parse_duration("3 Hours") == 10800.0
    assert parse_duration("10 mins") == 600.0
    assert parse_duration("1 Week") == 604800.0


def test_unknown_unit():
    with pytest.raises(UnknownUnitError) as info:
        parse_duration("3 fortnights")
    assert info.value.unit == "fortnights"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "h", "1h 30", "1:75", "-", "1h 2h"],
    ids=["empty", "blank", "unit-only", "trailing-number", "bad-clock", "sign-only", "repeated-unit"],
)
def test_parse_rejects_garbage(text):
    with pytest.raises(DurationError):
        parse_duration(text)


def test_parse_requires_string():
    with pytest.raises(TypeError):
        parse_duration(90)
