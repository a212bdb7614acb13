from tmplite import register_filter, render
from tmplite.filters import escape, truncate


def test_upper_lower():
    assert render("{{ s|upper }} {{ s|lower }}", s="MiX") == "MIX mix"


def test_title():
    assert render("{{ s|title }}", s="hello wORLD") == "Hello World"


def test_chained():
    assert render("{{ s|strip|upper }}", s="  a ") == "A"


def test_default_missing():
    assert render("{{ nope|default('x') }}") == "x"


def test_default_keeps_value():
    assert render("{{ v|default('x') }}", v="set") == "set"


def test_join():
    assert render("{{ xs|join(', ') }}", xs=[1, 2, 3]) == "1, 2, 3"


def test_length():
    assert render("{{ xs|length }}", xs=[1, 2]) == "2"


def test_first_last():
    assert render("{{ xs|first }}-{{ xs|last }}", xs=[4, 5, 6]) == "4-6"


def test_replace():
    assert render("{{ s|replace('a', 'o') }}", s="banana") == "bonono"


def test_truncate_short_unchanged():
    assert truncate("short", 10) == "short"


def test_truncate_long():
    assert truncate("abcdefghijklmnop", 10) == "abcdefg..."


def test_escape_function():
    assert escape("<a href='x'>") == "&lt;a href=&#39;x&#39;&gt;"


def test_sort_reverse():
    assert render("{{ xs|sort|join }}{{ xs|reverse|join }}", xs=[3, 1, 2]) == "123213"


def test_pluralize():
    assert render("{{ n }} item{{ n|pluralize }}", n=2) == "2 items"


def test_register_filter():
    register_filter("double", lambda v: v * 2)
    assert render("{{ n|double }}", n=4) == "8"


def test_numeric_literal_argument():
    assert render("{{ s|truncate(5) }}", s="abcdefgh") == "ab..."
