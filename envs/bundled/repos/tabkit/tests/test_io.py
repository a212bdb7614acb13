import pytest

from tabkit import Table, TableError, from_markdown, read_csv, to_markdown, to_text, write_csv


def test_read_csv_types():
    t = read_csv("name,age,ok\nann,31,yes\nbob,4.5,no\n")
    assert t.rows == [["ann", 31, True], ["bob", 4.5, False]]


def test_read_csv_sniffs_semicolon():
    t = read_csv("a;b\n1;2\n")
    assert t.columns == ["a", "b"] and t.rows == [[1, 2]]


def test_read_csv_quoted():
    t = read_csv('a,b\n"x, y",2\n')
    assert t.rows == [["x, y", 2]]


def test_read_csv_no_inference():
    assert read_csv("a\n1\n", infer_types=False).rows == [["1"]]


def test_read_csv_bad_row():
    with pytest.raises(TableError):
        read_csv("a,b\n1\n")


def test_read_csv_empty():
    with pytest.raises(TableError):
        read_csv("   ")


def test_read_csv_bom():
    assert read_csv("\ufeffa,b\n1,2\n").columns == ["a", "b"]


def test_write_csv():
    t = Table(["a", "b"], [[1, "x"], [2, "y, z"]])
    assert write_csv(t) == 'a,b\n1,x\n2,"y, z"\n'


def test_csv_round_trip():
    text = "city,pop\nOslo,700000\nRome,2800000\n"
    assert write_csv(read_csv(text)) == text


def test_markdown_render():
    t = Table(["name", "n"], [["ann", 5], ["bob", 12]])
    assert to_markdown(t) == "| name | n   |\n| ---- | --: |\n| ann  |   5 |\n| bob  |  12 |\n"


def test_markdown_explicit_align():
    t = Table(["a"], [["x"]])
    assert "| :-: |" in to_markdown(t, align=["center"])


def test_markdown_escapes_pipe():
    t = Table(["a"], [["x|y"]])
    assert "x\\|y" in to_markdown(t)


def test_markdown_round_trip():
    t = Table(["name", "n"], [["ann", 5], ["bob", 12]])
    assert from_markdown(to_markdown(t)).rows == t.rows


def test_from_markdown_with_text_around():
    text = "Intro\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nOutro\n"
    assert from_markdown(text).rows == [[1, 2]]


def test_from_markdown_bad_rule():
    with pytest.raises(TableError):
        from_markdown("| a |\n| x |\n")


def test_from_markdown_none():
    with pytest.raises(TableError):
        from_markdown("no table here")


def test_to_text():
    t = Table(["name", "n"], [["ann", 5]])
    assert to_text(t) == "+------+---+\n| name | n |\n+------+---+\n| ann  | 5 |\n+------+---+\n"


def test_to_text_max_rows():
    t = Table(["n"], [[i] for i in range(5)])
    assert to_text(t, max_rows=2).endswith("(3 more rows)\n")
