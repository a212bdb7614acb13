"""Procedural bugs: small AST mutations of a Python source file, each a minimal text edit.

Every operator finds its sites in a module's AST and rewrites only the source segment of one node
(``ast`` positions), so the bug patch is a one- or few-line diff and the rest of the file keeps its
formatting. Operators (SWE-smith's procedural modifications are the reference):

- ``flip_comparison``: ``<`` ↔ ``>=``, ``<=`` ↔ ``>``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``, ``is`` ↔
  ``is not``;
- ``off_by_one``: an integer literal in arithmetic, a slice, an index or a comparison, plus or minus one;
- ``swap_operator``: ``+`` ↔ ``-``, ``*`` ↔ ``//``, ``and`` ↔ ``or``;
- ``drop_clause``: one operand of a boolean ``and`` / ``or`` removed;
- ``drop_branch``: an ``elif`` / ``else`` branch removed, or an ``if`` without ``else`` removed;
- ``swap_arguments``: the first two positional arguments of a call swapped;
- ``wrong_default``: a function parameter's literal default changed (``True`` ↔ ``False``, ``n`` →
  ``n + 1``, ...);
- ``early_return``: the statement before a function's final ``return`` dropped;
- ``invert_condition``: an ``if`` test negated.

``mutations(source)`` lists every candidate (deterministic order); the pipeline samples them with a seed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_FLIP = {
    ast.Lt: ">=",
    ast.GtE: "<",
    ast.LtE: ">",
    ast.Gt: "<=",
    ast.Eq: "!=",
    ast.NotEq: "==",
    ast.In: "not in",
    ast.NotIn: "in",
    ast.Is: "is not",
    ast.IsNot: "is",
}
_SWAP_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult}


@dataclass(frozen=True)
class Mutation:
    """One candidate bug: which operator, where, and the whole mutated source."""

    operator: str
    line: int
    source: str  # the mutated module text


class _Text:
    """The module's text with offsets for ``ast`` (line, column) positions."""

    def __init__(self, source: str):
        self.source = source
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self._bytes = [line.encode() for line in source.splitlines(keepends=True)]

    def offset(self, line: int, col: int) -> int:
        # ast columns count UTF-8 bytes; convert to characters of that line.
        chars = len(self._bytes[line - 1][:col].decode(errors="replace"))
        return self.starts[line - 1] + chars

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def replace(self, node: ast.AST, text: str) -> str:
        start, end = self.span(node)
        return self.source[:start] + text + self.source[end:]

    def drop_lines(self, first: int, last: int, indent_from: ast.stmt | None = None) -> str:
        """Remove lines ``first..last`` (1-based); ``pass`` keeps a block that would be empty."""
        lines = self.source.splitlines(keepends=True)
        keep = lines[: first - 1] + lines[last:]
        if indent_from is not None:
            indent = " " * indent_from.col_offset
            keep = [*lines[: first - 1], f"{indent}pass\n", *lines[last:]]
        return "".join(keep)


def _segment(text: _Text, node: ast.AST) -> str:
    start, end = text.span(node)
    return text.source[start:end]


def _flip_comparison(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
            left, right = _segment(text, node.left), _segment(text, node.comparators[0])
            new = f"{left} {_FLIP[type(node.ops[0])]} {right}"
            yield Mutation("flip_comparison", node.lineno, text.replace(node, new))


def _int_sites(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        children: list[ast.AST] = []
        if isinstance(node, ast.BinOp):
            children = [node.left, node.right]
        elif isinstance(node, ast.Slice):
            children = [c for c in (node.lower, node.upper) if c is not None]
        elif isinstance(node, ast.Subscript):
            children = [node.slice]
        elif isinstance(node, ast.Compare):
            children = [node.left, *node.comparators]
        for child in children:
            if isinstance(child, ast.Constant) and type(child.value) is int:
                yield child


def _off_by_one(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in _int_sites(tree):
        value = int(node.value)
        new = value + 1 if value <= 1 else value - 1
        yield Mutation("off_by_one", node.lineno, text.replace(node, str(new)))


def _swap_operator(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BINOP:
            left, right = _segment(text, node.left), _segment(text, node.right)
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//"}[
                _SWAP_BINOP[type(node.op)]
            ]
            new = f"{left} {symbol} {right}"
            if isinstance(node.right, ast.BinOp | ast.BoolOp | ast.Compare):
                new = f"{left} {symbol} ({right})"
            yield Mutation("swap_operator", node.lineno, text.replace(node, new))
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            word = "or" if isinstance(node.op, ast.And) else "and"
            parts = [_segment(text, v) for v in node.values]
            parts = [
                f"({p})" if isinstance(v, ast.BoolOp) else p for p, v in zip(parts, node.values, strict=True)
            ]
            yield Mutation(
                "swap_operator", node.lineno, text.replace(node, f"({parts[0]} {word} {parts[1]})")
            )


def _drop_clause(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and len(node.values) >= 2:
            for index in range(len(node.values)):
                kept = [_segment(text, v) for i, v in enumerate(node.values) if i != index]
                word = " and " if isinstance(node.op, ast.And) else " or "
                yield Mutation("drop_clause", node.lineno, text.replace(node, f"({word.join(kept)})"))


def _drop_branch(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        if node.orelse:
            first = node.orelse[0]
            if (
                len(node.orelse) == 1
                and isinstance(first, ast.If)
                and text.source.splitlines()[first.lineno - 1].lstrip().startswith("elif")
            ):
                # drop the elif branch but keep its own else/elif chain out too: simplest is dropping it whole
                yield Mutation("drop_branch", first.lineno, text.drop_lines(first.lineno, node.end_lineno))
            else:
                lines = text.source.splitlines()
                else_line = next(
                    (
                        n
                        for n in range(node.body[-1].end_lineno + 1, first.lineno)
                        if lines[n - 1].strip().startswith("else")
                    ),
                    None,
                )
                if else_line is not None:
                    yield Mutation("drop_branch", else_line, text.drop_lines(else_line, node.end_lineno))
        else:
            yield Mutation("drop_branch", node.lineno, text.drop_lines(node.lineno, node.end_lineno, node))


def _swap_arguments(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            first, second = node.args[0], node.args[1]
            if any(isinstance(a, ast.Starred) for a in (first, second)):
                continue
            a, b = _segment(text, first), _segment(text, second)
            if a == b:
                continue
            start, _ = text.span(first)
            _, end = text.span(second)
            middle = text.source[text.span(first)[1] : text.span(second)[0]]
            source = text.source[:start] + b + middle + a + text.source[end:]
            yield Mutation("swap_arguments", node.lineno, source)


def _changed_default(value: object) -> str | None:
    if value is True or value is False:
        return str(not value)
    if type(value) is int:
        return str(value + 1)
    if value is None:
        return None
    if isinstance(value, str) and value:
        return repr(value[:-1])
    return None


def _wrong_default(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                if isinstance(default, ast.Constant):
                    new = _changed_default(default.value)
                    if new is not None:
                        yield Mutation("wrong_default", default.lineno, text.replace(default, new))


def _early_return(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and len(node.body) >= 3:
            last, before = node.body[-1], node.body[-2]
            if isinstance(last, ast.Return) and isinstance(
                before, ast.Assign | ast.AugAssign | ast.Expr | ast.If
            ):
                yield Mutation(
                    "early_return", before.lineno, text.drop_lines(before.lineno, before.end_lineno)
                )


def _invert_condition(tree: ast.AST, text: _Text) -> Iterator[Mutation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.While) and not isinstance(node.test, ast.Constant):
            yield Mutation(
                "invert_condition", node.lineno, text.replace(node.test, f"not ({_segment(text, node.test)})")
            )


OPERATORS: dict[str, Callable[[ast.AST, _Text], Iterator[Mutation]]] = {
    "flip_comparison": _flip_comparison,
    "off_by_one": _off_by_one,
    "swap_operator": _swap_operator,
    "drop_clause": _drop_clause,
    "drop_branch": _drop_branch,
    "swap_arguments": _swap_arguments,
    "wrong_default": _wrong_default,
    "early_return": _early_return,
    "invert_condition": _invert_condition,
}


def _skip_module_level(tree: ast.Module) -> set[int]:
    """Lines outside any function or class body: module-level code runs at import, breaking everything."""
    inside: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inside.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return inside


def mutations(source: str, operators: tuple[str, ...] = tuple(OPERATORS)) -> list[Mutation]:
    """Every candidate mutation of ``source`` that still parses and changes it, in a stable order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    text = _Text(source)
    inside = _skip_module_level(tree)
    found: list[Mutation] = []
    seen: set[str] = set()
    for name in operators:
        for mutation in OPERATORS[name](tree, text):
            if mutation.line not in inside or mutation.source == source or mutation.source in seen:
                continue
            try:
                ast.parse(mutation.source)
            except SyntaxError:
                continue
            seen.add(mutation.source)
            found.append(mutation)
    return found
