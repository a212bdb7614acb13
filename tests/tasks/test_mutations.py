"""Procedural bug operators: each yields minimal, parseable edits inside functions, deterministically."""

from __future__ import annotations

import ast
import difflib

import pytest

from swe_srl.tasks.synth.mutations import OPERATORS, mutations

SOURCE = '''"""A module."""

LIMIT = 10  # module level: never mutated (it would break every import)


def clamp(value, low=0, high=LIMIT, strict=True):
    if value < low:
        return low
    elif value > high:
        return high
    else:
        pass
    if strict and value == high:
        value = value - 1
    total = value + 1
    return total


def pick(items, index):
    return max(items[index:], key=len) if items else divmod(index, 3)
'''


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_operator_finds_sites_and_keeps_edits_small(operator):
    found = mutations(SOURCE, (operator,))
    assert found, f"{operator} found no site"
    for mutation in found:
        ast.parse(mutation.source)
        assert mutation.operator == operator and mutation.source != SOURCE
        changed = _changed_lines(SOURCE, mutation.source)
        assert 1 <= len(changed) <= 8, changed
        assert "LIMIT = 10" in mutation.source  # module-level code untouched


def test_flip_comparison_and_off_by_one_are_the_textbook_edits():
    flips = {m.source for m in mutations(SOURCE, ("flip_comparison",))}
    assert SOURCE.replace("if value < low:", "if value >= low:") in flips
    assert SOURCE.replace("value == high", "value != high") in flips
    off = {m.source for m in mutations(SOURCE, ("off_by_one",))}
    assert SOURCE.replace("value = value - 1", "value = value - 2") in off


def test_swap_arguments_and_wrong_default():
    swapped = {m.source for m in mutations(SOURCE, ("swap_arguments",))}
    assert swapped == {SOURCE.replace("divmod(index, 3)", "divmod(3, index)")}
    defaults = {m.source for m in mutations(SOURCE, ("wrong_default",))}
    assert SOURCE.replace("strict=True", "strict=False") in defaults
    assert SOURCE.replace("low=0,", "low=1,") in defaults


def test_drop_branch_removes_elif_and_else_chains():
    dropped = [m.source for m in mutations(SOURCE, ("drop_branch",))]
    assert any("elif value > high" not in s and "if value < low" in s for s in dropped)


def test_order_and_content_are_deterministic():
    assert mutations(SOURCE) == mutations(SOURCE)


def test_unparseable_source_yields_nothing():
    assert mutations("def broken(:\n") == []
