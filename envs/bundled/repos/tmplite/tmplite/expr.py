"""Expressions inside tags: literals, dotted names, filters, comparisons and boolean logic."""

from __future__ import annotations

import re
from typing import Any, Callable, List

from .errors import TemplateSyntaxError, UndefinedError

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<op>==|!=|<=|>=|[<>|(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*))"
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "none"}

Evaluator = Callable[[Any], Any]


class _Missing:
    """The value of an undefined name in non-strict mode: renders as empty and is falsy."""

    def __str__(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False

    def __iter__(self):
        return iter(())


MISSING = _Missing()


def lex(text: str, lineno: int = 1) -> List[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise TemplateSyntaxError(f"unexpected character in expression: {text[pos:]!r}", lineno)
        tokens.append(match.group().strip())
        pos = match.end()
    return tokens


def lookup(context, dotted: str) -> Any:
    """Resolve ``a.b.c``: each step tries a mapping key, then an attribute, then a list index."""
    head, *rest = dotted.split(".")
    value = context.get(head, MISSING)
    for part in rest:
        if value is MISSING:
            break
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif part.isdigit() and isinstance(value, (list, tuple)):
            index = int(part)
            value = value[index] if index < len(value) else MISSING
        else:
            value = getattr(value, part, MISSING)
    if value is MISSING and context.strict:
        raise UndefinedError(f"{dotted!r} is undefined")
    return value


class Parser:
    """Recursive descent over expression tokens; produces closures taking a context."""

    def __init__(self, text: str, filters, lineno: int = 1):
        self.tokens = lex(text, lineno)
        self.pos = 0
        self.filters = filters
        self.lineno = lineno

    def error(self, message: str) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, self.lineno)

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self, expected: str = "") -> str:
        token = self.peek()
        if not token or (expected and token != expected):
            raise self.error(f"expected {expected or 'a token'}, got {token or 'end of expression'!r}")
        self.pos += 1
        return token

    def parse(self) -> Evaluator:
        result = self.parse_or()
        if self.peek():
            raise self.error(f"unexpected {self.peek()!r}")
        return result

    def parse_or(self) -> Evaluator:
        left = self.parse_and()
        while self.peek() == "or":
            self.take()
            right, prev = self.parse_and(), left
            left = lambda ctx, a=prev, b=right: a(ctx) or b(ctx)  # noqa: E731
        return left

    def parse_and(self) -> Evaluator:
        left = self.parse_not()
        while self.peek() == "and":
            self.take()
            right, prev = self.parse_not(), left
            left = lambda ctx, a=prev, b=right: a(ctx) and b(ctx)  # noqa: E731
        return left

    def parse_not(self) -> Evaluator:
        if self.peek() == "not":
            self.take()
            inner = self.parse_not()
            return lambda ctx: not inner(ctx)
        return self.parse_compare()

    def parse_compare(self) -> Evaluator:
        left = self.parse_filtered()
        ops = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
            "in": lambda a, b: a in b,
        }
        if self.peek() in ops:
            op = ops[self.take()]
            right = self.parse_filtered()
            return lambda ctx: op(left(ctx), right(ctx))
        return left

    def parse_filtered(self) -> Evaluator:
        value = self.parse_atom()
        while self.peek() == "|":
            self.take()
            name = self.take()
            if name not in self.filters:
                raise self.error(f"unknown filter {name!r}")
            args: List[Evaluator] = []
            if self.peek() == "(":
                self.take()
                while self.peek() != ")":
                    args.append(self.parse_or())
                    if self.peek() == ",":
                        self.take()
                self.take(")")
            func, inner = self.filters[name], value
            value = lambda ctx, f=func, v=inner, a=args: f(v(ctx), *[x(ctx) for x in a])  # noqa: E731
        return value

    def parse_atom(self) -> Evaluator:
        token = self.take()
        if token == "(":
            inner = self.parse_or()
            self.take(")")
            return inner
        if token[0] in "\"'":
            literal = token[1:-1]
            return lambda ctx: literal
        if token[0].isdigit() or (token[0] == "-" and len(token) > 1):
            number = float(token) if "." in token else int(token)
            return lambda ctx: number
        constants = {"true": True, "false": False, "none": None}
        if token in constants:
            constant = constants[token]
            return lambda ctx: constant
        if token in _KEYWORDS or not (token[0].isalpha() or token[0] == "_"):
            raise self.error(f"unexpected {token!r}")
        return lambda ctx: lookup(ctx, token)


def compile_expression(text: str, filters, lineno: int = 1) -> Evaluator:
    return Parser(text, filters, lineno).parse()
