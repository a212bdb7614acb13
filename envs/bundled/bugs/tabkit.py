"""Bugs in tabkit (values, tables, CSV, Markdown and text rendering)."""

from bugs import Bug, Edit

LIB = "tabkit"

BUGS = [
    Bug(
        LIB,
        "negative-int-becomes-float",
        "easy",
        "wrong-regex",
        (
            Edit(
                "tabkit/values.py", '_INT_RE = re.compile(r"^[+-]?\\d+$")', '_INT_RE = re.compile(r"^\\d+$")'
            ),
        ),
        """from tabkit import infer, read_csv, write_csv


def test_infer_negative_int():
    value = infer("-3")
    assert value == -3 and isinstance(value, int)


def test_infer_explicit_plus():
    value = infer("+7")
    assert value == 7 and isinstance(value, int)


def test_csv_round_trip_negative():
    text = "delta\\n-5\\n12\\n"
    assert write_csv(read_csv(text)) == text
""",
        """Negative integers are read as floats

```python
>>> from tabkit import read_csv, write_csv
>>> t = read_csv("delta\\n-5\\n12\\n")
>>> t.rows
[[-5.0], [12]]
>>> write_csv(t)
'delta\\n-5.0\\n12\\n'
```

`-5` should be inferred as the integer `-5` just like `12` is an integer, and a read/write round trip
should give back the same text. `infer("-3")` returns `-3.0` too; `infer("+7")` gives `7.0`.
""",
    ),
    Bug(
        LIB,
        "sort-with-empty-cells",
        "medium",
        "unhandled-edge-case",
        (
            Edit(
                "tabkit/table.py",
                '        """Stable sort on one or more columns; empty (None) cells always go last."""\n',
                '        """Stable sort on one or more columns."""\n',
            ),
            Edit(
                "tabkit/table.py",
                "            present = [row for row in rows if row[i] is not None]\n"
                "            missing = [row for row in rows if row[i] is None]\n"
                "            rows = sorted(present, key=lambda row: row[i], reverse=reverse) + missing\n",
                "            rows = sorted(rows, key=lambda row: row[i], reverse=reverse)\n",
            ),
        ),
        """from tabkit import Table, read_csv


def test_sort_with_missing_values_puts_them_last():
    t = read_csv("name,score\\nann,5\\nbob,\\ncy,2\\n")
    assert t.sort_by("score").column("name") == ["cy", "ann", "bob"]


def test_sort_reverse_missing_still_last():
    t = Table(["v"], [[None], [1], [3]])
    assert t.sort_by("v", reverse=True).column("v") == [3, 1, None]


def test_sort_two_keys_with_missing():
    t = Table(["g", "v"], [["a", None], ["a", 2], ["b", 1]])
    assert t.sort_by("g", "v").rows == [["a", 2], ["a", None], ["b", 1]]
""",
        """sort_by crashes when a column has empty cells

```python
>>> from tabkit import read_csv
>>> t = read_csv("name,score\\nann,5\\nbob,\\ncy,2\\n")
>>> t.sort_by("score")
Traceback (most recent call last):
  ...
TypeError: '<' not supported between instances of 'NoneType' and 'int'
```

Empty cells are common in CSV exports. I'd expect rows with an empty value to be sorted after all
others (also when sorting with `reverse=True`), like spreadsheets do: `cy, ann, bob` here.
""",
    ),
    Bug(
        LIB,
        "mean-counts-missing",
        "medium",
        "wrong-logic",
        (
            Edit(
                "tabkit/table.py",
                "    return sum(present) / len(present) if present else None\n",
                "    return sum(present) / len(values) if values else None\n",
            ),
        ),
        """from tabkit import Table


def test_mean_ignores_missing_values():
    t = Table(["team", "pts"], [["a", 4], ["a", None], ["a", 8], ["b", None]])
    g = t.group_by("team", avg="mean:pts")
    assert g.rows == [["a", 6.0], ["b", None]]


def test_mean_all_present():
    t = Table(["k", "v"], [["x", 1], ["x", 2]])
    assert t.group_by("k", m="mean:v").column("m") == [1.5]
""",
        """group_by mean is too low when some values are missing

```python
>>> from tabkit import Table
>>> t = Table(["team", "pts"], [["a", 4], ["a", None], ["a", 8], ["b", None]])
>>> t.group_by("team", avg="mean:pts").rows
[['a', 4.0], ['b', 0.0]]
```

`count`, `sum`, `min` and `max` all skip empty cells, but `mean` divides by the number of rows
including the empty ones. Expected `[['a', 6.0], ['b', None]]`: the mean of 4 and 8, and no mean at
all for a group without values.
""",
    ),
    Bug(
        LIB,
        "markdown-escaped-pipe",
        "easy",
        "wrong-api-use",
        (
            Edit(
                "tabkit/markdown.py",
                '    return [cell.strip().replace("\\\\|", "|") for cell in _SPLIT_RE.split(line)]\n',
                '    return [cell.strip().replace("\\\\|", "|") for cell in line.split("|")]\n',
            ),
        ),
        """from tabkit import Table, from_markdown, to_markdown


def test_parse_escaped_pipe():
    text = "| cmd | note |\\n| --- | --- |\\n| a \\\\| b | pipe |\\n"
    assert from_markdown(text).rows == [["a | b", "pipe"]]


def test_round_trip_with_pipe():
    t = Table(["expr", "n"], [["x|y", 1]])
    assert from_markdown(to_markdown(t)).rows == [["x|y", 1]]
""",
        """from_markdown fails on cells containing an escaped pipe

`to_markdown` correctly escapes `|` inside cells as `\\|`, but reading such a table back fails:

```python
>>> from tabkit import Table, from_markdown, to_markdown
>>> text = to_markdown(Table(["expr", "n"], [["x|y", 1]]))
>>> print(text)
| expr | n   |
| ---- | --: |
| x\\|y |   1 |
>>> from_markdown(text)
Traceback (most recent call last):
  ...
tabkit.table.TableError: table line 3: expected 2 cells, got 3
```

Expected a table with the single row `["x|y", 1]`. GitHub renders `\\|` as a literal pipe inside a cell.
""",
    ),
    Bug(
        LIB,
        "wide-characters-misaligned",
        "hard",
        "wrong-api-use",
        (
            Edit(
                "tabkit/markdown.py",
                "        max([3, display_width(header[i])] + [display_width(row[i]) for row in body])\n",
                "        max([3, len(header[i])] + [len(row[i]) for row in body])\n",
            ),
            Edit(
                "tabkit/textgrid.py",
                "        max([display_width(name)] + [display_width(row[i]) for row in cells])\n",
                "        max([len(name)] + [len(row[i]) for row in cells])\n",
            ),
        ),
        """from tabkit import Table, to_markdown, to_text
from tabkit.values import display_width


def widths(text):
    return {display_width(line) for line in text.splitlines() if not line.startswith("(")}


def test_markdown_lines_align_with_wide_characters():
    t = Table(["city", "n"], [["東京タワー", 1], ["Oslo", 22]])
    out = to_markdown(t)
    assert len(widths(out)) == 1
    assert "| 東京タワー |" in out


def test_text_grid_aligns_with_wide_characters():
    t = Table(["名前", "score"], [["山田太郎", 10], ["ann", 7]])
    assert len(widths(to_text(t))) == 1


def test_markdown_ascii_unchanged():
    t = Table(["a"], [["xyz"]])
    assert to_markdown(t) == "| a   |\\n| --- |\\n| xyz |\\n"
""",
        """Tables with CJK text are misaligned

Both the Markdown and the plain-text renderers produce ragged columns as soon as a cell contains
East Asian (double-width) characters:

```python
>>> from tabkit import Table, to_markdown, to_text
>>> print(to_markdown(Table(["city", "n"], [["東京タワー", 1], ["Oslo", 22]])), end="")
| city  | n   |
| ----- | --: |
| 東京タワー |   1 |
| Oslo  |  22 |
>>> print(to_text(Table(["名前", "score"], [["山田太郎", 10], ["ann", 7]])), end="")
+------+-------+
| 名前 | score |
+------+-------+
| 山田太郎 |    10 |
| ann  |     7 |
+------+-------+
```

In a terminal (and in GitHub's raw view) each of these characters takes two columns, so the `|`
separators do not line up. Every line of the output should have the same display width.
""",
    ),
    Bug(
        LIB,
        "none-written-as-text",
        "medium",
        "wrong-api-use",
        (
            Edit(
                "tabkit/csvio.py",
                "        writer.writerow([format_value(value) for value in row])\n",
                "        writer.writerow([str(value) for value in row])\n",
            ),
            Edit(
                "tabkit/markdown.py",
                "    body = [[_escape(format_value(v)) for v in row] for row in table.rows]\n",
                "    body = [[_escape(str(v)) for v in row] for row in table.rows]\n",
            ),
        ),
        """from tabkit import Table, read_csv, to_markdown, write_csv


def test_write_csv_empty_cell_round_trip():
    text = "a,b,ok\\n1,,true\\n"
    assert write_csv(read_csv(text)) == text


def test_write_csv_none_and_bool():
    assert write_csv(Table(["x", "y"], [[None, False]])) == "x,y\\n,false\\n"


def test_markdown_none_and_bool():
    out = to_markdown(Table(["name", "ok"], [["ann", None], ["bob", True]]))
    assert "None" not in out and "True" not in out
    assert "| bob  | true |" in out
""",
        """Empty cells are written as "None" and booleans as "True"

Reading a CSV and writing it back changes the data:

```python
>>> from tabkit import read_csv, write_csv, to_markdown
>>> t = read_csv("a,b,ok\\n1,,true\\n")
>>> write_csv(t)
'a,b,ok\\n1,None,True\\n'
```

The empty cell becomes the string `None`, which other tools then read as text. Markdown output has
the same problem (`| ann  | None |`). `to_text` prints these cells fine (empty and `true`).
Expected `'a,b,ok\\n1,,true\\n'`.
""",
    ),
]
