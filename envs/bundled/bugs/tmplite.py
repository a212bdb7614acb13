# ruff: noqa: E501 -- verbatim source lines and issue text
"""Bugs in tmplite (template engine: lexer, expressions, filters, nodes)."""

from bugs import Bug, Edit

LIB = "tmplite"

BUGS = [
    Bug(
        LIB,
        "loop-last-never-true",
        "easy",
        "off-by-one",
        (
            Edit(
                "tmplite/nodes.py",
                "        self.last = index0 == length - 1\n",
                "        self.last = index0 == length\n",
            ),
        ),
        """from tmplite import render


def test_loop_last_marks_final_item():
    src = "{% for x in xs %}{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}"
    assert render(src, xs=["a", "b", "c"]) == "a, b, c"


def test_loop_last_single_item():
    assert render("{% for x in xs %}{% if loop.last %}end{% endif %}{% endfor %}", xs=[1]) == "end"
""",
        """`loop.last` is never true inside a for loop

I'm building a comma separated list the usual way:

```python
>>> from tmplite import render
>>> render("{% for x in xs %}{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}", xs=["a", "b", "c"])
'a, b, c, '
```

There is a trailing `, ` because `loop.last` is false on every iteration, including the final one.
Even a one-element list never sees `loop.last`. `loop.first` and `loop.index` work fine.

Expected `'a, b, c'`.
""",
    ),
    Bug(
        LIB,
        "escape-double-quote",
        "easy",
        "unhandled-edge-case",
        (
            Edit(
                "tmplite/filters.py",
                """("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")""",
                """("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;")""",
            ),
        ),
        """from tmplite import Template
from tmplite.filters import escape


def test_escape_double_quote():
    assert escape('say "hi"') == "say &quot;hi&quot;"


def test_autoescape_attribute_value():
    t = Template('<input value="{{ v }}">', autoescape=True)
    assert t.render(v='x" onfocus="alert(1)') == '<input value="x&quot; onfocus=&quot;alert(1)">'
""",
        """Autoescape does not escape double quotes (attribute injection)

With `autoescape=True` I expected user input to be safe inside quoted HTML attributes, but double
quotes come through unchanged:

```python
>>> from tmplite import Template
>>> Template('<input value="{{ v }}">', autoescape=True).render(v='x" onfocus="alert(1)')
'<input value="x" onfocus="alert(1)">'
```

Single quotes are escaped (`&#39;`) and so are `<`, `>` and `&`, but `"` is not. Expected
`<input value="x&quot; onfocus=&quot;alert(1)">`. The `escape` / `e` filter has the same problem.
""",
    ),
    Bug(
        LIB,
        "default-replaces-falsy",
        "medium",
        "wrong-condition",
        (
            Edit(
                "tmplite/filters.py",
                "    if value is MISSING or value is None:\n        return fallback\n",
                "    if not value:\n        return fallback\n",
            ),
        ),
        """from tmplite import render


def test_default_keeps_zero():
    assert render("{{ count|default('n/a') }}", count=0) == "0"


def test_default_keeps_empty_string_and_false():
    assert render("[{{ s|default('x') }}]", s="") == "[]"
    assert render("{{ flag|default(true) }}", flag=False) == "False"


def test_default_boolean_mode_replaces_falsy():
    assert render("{{ s|default('x', true) }}", s="") == "x"


def test_default_none_and_missing():
    assert render("{{ v|default('x') }}{{ nope|default('y') }}", v=None) == "xy"
""",
        """`default` filter replaces 0 and empty strings

```python
>>> from tmplite import render
>>> render("Unread: {{ count|default('n/a') }}", count=0)
'Unread: n/a'
```

A count of zero is a real value, not a missing one. The documentation of the filter says the fallback
is used when the value is undefined, and only when passing `boolean=True` (second argument) should
falsy values also be replaced. Right now `False` and `""` are replaced as well:

```python
>>> render("{{ flag|default(true) }}", flag=False)
'True'
```

Expected `'Unread: 0'` and `'False'`.
""",
    ),
    Bug(
        LIB,
        "for-loop-scope-leak",
        "medium",
        "state-bug",
        (
            Edit(
                "tmplite/nodes.py",
                "        ctx.push()\n"
                "        try:\n"
                "            for index, item in enumerate(items):\n"
                "                self._bind(ctx, item)\n"
                '                ctx.set("loop", LoopInfo(index, len(items)))\n'
                "                render_body(self.body, ctx, out, autoescape)\n"
                "        finally:\n"
                "            ctx.pop()\n",
                "        for index, item in enumerate(items):\n"
                "            self._bind(ctx, item)\n"
                '            ctx.set("loop", LoopInfo(index, len(items)))\n'
                "            render_body(self.body, ctx, out, autoescape)\n",
            ),
        ),
        """from tmplite import Template, render


def test_loop_variable_does_not_overwrite_outer_value():
    src = "{% for item in items %}{{ item }}{% endfor %} {{ item }}"
    assert render(src, items=["a", "b"], item="outer") == "ab outer"


def test_outer_loop_info_restored_after_inner_loop():
    src = "{% for r in rows %}{% for c in r %}{% endfor %}{{ loop.index }}{% endfor %}"
    assert render(src, rows=[[1, 2, 3], [4]]) == "12"


def test_set_inside_loop_is_local():
    t = Template("{% for x in xs %}{% set last = x %}{% endfor %}[{{ last }}]")
    assert t.render(xs=[1, 2]) == "[]"


def test_render_twice_is_independent():
    t = Template("{% for x in xs %}{{ x }}{% endfor %}{{ x }}")
    assert t.render(xs=[1, 2], x="!") == "12!"
""",
        """Variables from a for loop leak into the rest of the template

A loop variable overwrites a variable of the same name that was passed to `render`, and the change
sticks after `{% endfor %}`:

```python
>>> from tmplite import render
>>> render("{% for item in items %}{{ item }}{% endfor %} {{ item }}", items=["a", "b"], item="outer")
'ab b'
```

Nested loops have the same problem with `loop`: after an inner loop finishes, `loop.index` in the
outer loop shows the inner loop's counter:

```python
>>> render("{% for r in rows %}{% for c in r %}{% endfor %}{{ loop.index }}{% endfor %}", rows=[[1, 2, 3], [4]])
'31'
```

Expected `'ab outer'` and `'12'`: names bound inside a loop (including with `{% set %}`) should only
be visible inside it.
""",
    ),
    Bug(
        LIB,
        "trim-keeps-newlines",
        "medium",
        "wrong-api-use",
        (
            Edit(
                "tmplite/lexer.py",
                "                tokens[-1].value = tokens[-1].value.rstrip()\n",
                '                tokens[-1].value = tokens[-1].value.rstrip(" ")\n',
            ),
            Edit(
                "tmplite/lexer.py",
                "            text = piece.lstrip() if trim_next else piece\n",
                '            text = piece.lstrip(" ") if trim_next else piece\n',
            ),
        ),
        """from tmplite import render


def test_trim_removes_newlines_after_tag():
    src = "{% for x in xs -%}\\n  {{ x }}\\n{%- endfor %}"
    assert render(src, xs=[1, 2]) == "12"


def test_trim_removes_tabs():
    assert render("a\\t{%- if true -%}\\tb{% endif %}") == "ab"


def test_trim_multiline_list():
    src = "<ul>\\n{%- for x in xs %}\\n  <li>{{ x }}</li>\\n{%- endfor %}\\n</ul>"
    assert render(src, xs=[1, 2]) == "<ul>\\n  <li>1</li>\\n  <li>2</li>\\n</ul>"
""",
        """Whitespace control (`{%-` / `-%}`) does not remove newlines

The docs say a `-` inside a tag removes all whitespace on that side of the tag, but only spaces are
removed; newlines and tabs stay:

```python
>>> from tmplite import render
>>> render("{% for x in xs -%}\\n  {{ x }}\\n{%- endfor %}", xs=[1, 2])
'\\n  1\\n\\n  2\\n'
```

Expected `'12'`. This makes it impossible to lay templates out over several lines without getting
blank lines in the output. Single-line templates with only spaces around the tags work.
""",
    ),
    Bug(
        LIB,
        "wrong-error-line-numbers",
        "hard",
        "wrong-state-tracking",
        (
            Edit(
                "tmplite/lexer.py",
                '            trim_next = False\n        lineno += piece.count("\\n")\n',
                '            trim_next = False\n            lineno += piece.count("\\n")\n',
            ),
            Edit(
                "tmplite/engine.py",
                "                condition = self.expr(tag.value[4:], tag.lineno)\n",
                "                condition = self.expr(tag.value[4:], token.lineno)\n",
            ),
        ),
        """import pytest

from tmplite import Template, TemplateSyntaxError


def error_line(source):
    with pytest.raises(TemplateSyntaxError) as info:
        Template(source)
    return info.value.lineno


def test_line_after_multiline_comment():
    assert error_line("{# a\\nlong\\ncomment #}\\n{% bogus %}") == 4


def test_line_after_multiline_tag():
    assert error_line("{{ a\\n }}\\n{% bogus %}") == 3


def test_line_of_bad_elif():
    assert error_line("{% if a %}\\nx\\n{% elif b = c %}\\ny\\n{% endif %}") == 3


def test_message_mentions_line():
    with pytest.raises(TemplateSyntaxError, match="line 3"):
        Template("{% if a %}\\n\\n{% elif %%% %}{% endif %}")
""",
        """TemplateSyntaxError reports the wrong line number

Errors in larger templates point at the wrong line, which makes them hard to find. Two cases I
found:

1. After a comment (or any tag) that spans several lines, every later error is reported too early:

```python
>>> from tmplite import Template
>>> Template("{# a\\nlong\\ncomment #}\\n{% bogus %}")
tmplite.errors.TemplateSyntaxError: line 2: unknown tag 'bogus'
```
   The bad tag is on line 4.

2. A syntax error in an `{% elif %}` condition is reported at the line of the opening `{% if %}`:

```python
>>> Template("{% if a %}\\nx\\n{% elif b = c %}\\ny\\n{% endif %}")
tmplite.errors.TemplateSyntaxError: line 1: unexpected character in expression: ' = c'
```
   Expected line 3.
""",
    ),
    Bug(
        LIB,
        "truncate-exact-length",
        "easy",
        "off-by-one",
        (
            Edit(
                "tmplite/filters.py",
                "    if len(text) <= length:\n        return text\n",
                "    if len(text) < length:\n        return text\n",
            ),
        ),
        """from tmplite import render
from tmplite.filters import truncate


def test_truncate_text_of_exact_length_is_unchanged():
    assert truncate("hello", 5) == "hello"


def test_truncate_filter_exact_length():
    assert render("{{ s|truncate(8) }}", s="12345678") == "12345678"


def test_truncate_one_over():
    assert truncate("123456789", 8) == "12345..."
""",
        """`truncate` shortens text that already fits

```python
>>> from tmplite import render
>>> render("{{ s|truncate(8) }}", s="12345678")
'12345...'
```

The string is exactly 8 characters long, which is within the limit, so I expect it back unchanged.
Strings shorter than the limit are returned unchanged and longer ones are cut correctly.
""",
    ),
]
