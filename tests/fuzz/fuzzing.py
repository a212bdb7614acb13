"""Shared pieces of the fuzz tests: example counts, the typed-errors-only check, JSON mutation."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swe_srl.records import SweSrlError

QUICK_EXAMPLES = 200
LONG_EXAMPLES = int(os.environ.get("SWE_SRL_FUZZ_EXAMPLES", "10000"))
# Parametrize a fuzz test with this: the quick pass always runs, the long one under `-m fuzz`.
EXAMPLE_COUNTS = [
    pytest.param(QUICK_EXAMPLES, id="quick"),
    pytest.param(LONG_EXAMPLES, id="long", marks=pytest.mark.fuzz),
]


def run_fuzz(strategy: st.SearchStrategy, check: Callable[[Any], object], examples: int) -> None:
    """Feed ``examples`` values of ``strategy`` to ``check``; a typed error is fine, others fail."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def property_(value):
        with contextlib.suppress(SweSrlError):
            check(value)

    property_()


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple = (), limit: int = 5000) -> list[tuple]:
    """Every container position in ``data`` (breadth first, at most ``limit``)."""
    found: list[tuple] = []
    queue = [(prefix, data)]
    while queue and len(found) < limit:
        path, value = queue.pop(0)
        if isinstance(value, dict):
            children = list(value.items())
        elif isinstance(value, list):
            children = list(enumerate(value))
        else:
            continue
        for key, child in children:
            found.append((*path, key))
            queue.append(((*path, key), child))
    return found


def _apply(data: Any, path: tuple, op: str, replacement: Any) -> None:
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "retype":
        parent[key] = replacement
    elif op == "truncate":
        value = parent[key]
        if isinstance(value, str | list):
            parent[key] = value[: len(value) // 3]
    elif op == "empty":
        parent[key] = type(parent[key])() if isinstance(parent[key], str | list | dict) else None


@st.composite
def mutated(draw, originals: list[Any], max_mutations: int = 4) -> Any:
    """One of ``originals`` (JSON-like) with a few fields deleted, retyped, truncated or emptied."""
    index = draw(st.integers(0, len(originals) - 1))
    data = json.loads(_SERIALIZED_CACHE.setdefault(id(originals[index]), json.dumps(originals[index])))
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = _paths(data)
        if not paths:
            break
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(["delete", "retype", "truncate", "empty"]))
        _apply(data, path, op, draw(JSON_VALUES) if op == "retype" else None)
    return data


_SERIALIZED_CACHE: dict[int, str] = {}
