from tabkit import format_value, infer
from tabkit.values import display_width, pad


def test_infer_int():
    assert infer("42") == 42 and isinstance(infer("42"), int)


def test_infer_float():
    assert infer("3.5") == 3.5
    assert infer("1e3") == 1000.0


def test_infer_bool():
    assert infer("TRUE") is True and infer("no") is False


def test_infer_null():
    assert infer("") is None and infer("N/A") is None


def test_infer_text_stripped():
    assert infer("  hello ") == "hello"


def test_format_value():
    assert format_value(None) == ""
    assert format_value(True) == "true"
    assert format_value(2.0) == "2.0"
    assert format_value(2.5) == "2.5"
    assert format_value("x") == "x"


def test_display_width_ascii():
    assert display_width("abc") == 3


def test_pad():
    assert pad("ab", 4, "left") == "ab  "
    assert pad("ab", 4, "right") == "  ab"
    assert pad("ab", 5, "center") == " ab  "
