import pytest

from tmplite import Template, TemplateSyntaxError, UndefinedError, render


def test_plain_text():
    assert render("hello") == "hello"


def test_variable():
    assert render("Hi {{ name }}!", name="Ann") == "Hi Ann!"


def test_dotted_dict_and_attr():
    class User:
        email = "a@b.c"

    assert render("{{ u.name }} {{ obj.email }}", u={"name": "Bo"}, obj=User()) == "Bo a@b.c"


def test_list_index():
    assert render("{{ items.1 }}", items=["a", "b"]) == "b"


def test_missing_renders_empty():
    assert render("[{{ nope }}]") == "[]"


def test_strict_raises():
    with pytest.raises(UndefinedError):
        Template("{{ nope }}", strict=True).render()


def test_none_renders_empty():
    assert render("[{{ x }}]", x=None) == "[]"


def test_if_else():
    t = Template("{% if n > 1 %}many{% else %}one{% endif %}")
    assert t.render(n=3) == "many"
    assert t.render(n=1) == "one"


def test_elif_chain():
    t = Template("{% if x == 1 %}a{% elif x == 2 %}b{% elif x == 3 %}c{% else %}z{% endif %}")
    assert [t.render(x=i) for i in (1, 2, 3, 4)] == ["a", "b", "c", "z"]


def test_boolean_ops():
    t = Template("{% if a and not b or c %}yes{% endif %}")
    assert t.render(a=True, b=False, c=False) == "yes"
    assert t.render(a=True, b=True, c=False) == ""


def test_in_operator():
    assert render("{% if 'x' in letters %}ok{% endif %}", letters=["x"]) == "ok"


def test_for_loop():
    assert render("{% for i in items %}{{ i }},{% endfor %}", items=[1, 2, 3]) == "1,2,3,"


def test_for_else():
    assert render("{% for i in items %}{{ i }}{% else %}empty{% endfor %}", items=[]) == "empty"


def test_for_unpack():
    out = render("{% for k, v in pairs %}{{ k }}={{ v }};{% endfor %}", pairs=[("a", 1), ("b", 2)])
    assert out == "a=1;b=2;"


def test_loop_index_and_first():
    src = "{% for i in items %}{{ loop.index }}{% if loop.first %}*{% endif %} {% endfor %}"
    assert render(src, items="abc") == "1* 2 3 "


def test_nested_loops():
    src = "{% for row in rows %}{% for c in row %}{{ c }}{% endfor %}|{% endfor %}"
    assert render(src, rows=[[1, 2], [3]]) == "12|3|"


def test_set():
    assert render("{% set greeting = 'hey' %}{{ greeting|upper }}") == "HEY"


def test_comment_dropped():
    assert render("a{# hidden #}b") == "ab"


def test_whitespace_control():
    assert render("a   {%- if true -%}   b   {%- endif -%}   c") == "abc"


def test_autoescape():
    t = Template("{{ html }}", autoescape=True)
    assert t.render(html="<b>") == "&lt;b&gt;"


def test_autoescape_safe():
    t = Template("{{ html|safe }}", autoescape=True)
    assert t.render(html="<b>") == "<b>"


def test_unknown_tag():
    with pytest.raises(TemplateSyntaxError):
        Template("{% frobnicate %}")


def test_missing_endif():
    with pytest.raises(TemplateSyntaxError):
        Template("{% if x %}abc")


def test_unknown_filter():
    with pytest.raises(TemplateSyntaxError):
        Template("{{ x|nope }}")


def test_syntax_error_line_number():
    with pytest.raises(TemplateSyntaxError) as info:
        Template("line one\nline two\n{% bogus %}")
    assert info.value.lineno == 3


def test_parenthesised_expression():
    assert render("{% if (a or b) and c %}y{% endif %}", a=False, b=True, c=True) == "y"
