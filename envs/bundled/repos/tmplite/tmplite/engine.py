"""Compile token streams into node trees and render them."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from .context import Context
from .errors import TemplateSyntaxError
from .expr import compile_expression
from .filters import FILTERS
from .lexer import BLOCK, TEXT, Token, tokenize
from .nodes import For, If, Node, Output, Set, Text, render_body

_FOR_RE = re.compile(r"^for\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+(.+)$")
_SET_RE = re.compile(r"^set\s+([A-Za-z_]\w*)\s*=\s*(.+)$")


class _Compiler:
    def __init__(self, tokens: List[Token], filters):
        self.tokens = tokens
        self.pos = 0
        self.filters = filters

    def expr(self, text: str, lineno: int):
        return compile_expression(text, self.filters, lineno)

    def body(self, stop: tuple) -> List[Node]:
        """Compile nodes until a block tag whose first word is in ``stop`` (left unconsumed)."""
        nodes: List[Node] = []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.kind == TEXT:
                nodes.append(Text(token.value))
            elif token.kind == BLOCK:
                word = token.value.split(" ", 1)[0]
                if word in stop:
                    return nodes
                nodes.append(self.block(token, word))
                continue
            else:
                nodes.append(Output(self.expr(token.value, token.lineno)))
            self.pos += 1
        if stop:
            raise TemplateSyntaxError(f"missing {{% {stop[-1]} %}}", self.tokens[-1].lineno if self.tokens else 1)
        return nodes

    def block(self, token: Token, word: str) -> Node:
        self.pos += 1
        if word == "if":
            return self.if_block(token)
        if word == "for":
            return self.for_block(token)
        if word == "set":
            match = _SET_RE.match(token.value)
            if match is None:
                raise TemplateSyntaxError("malformed set", token.lineno)
            return Set(match.group(1), self.expr(match.group(2), token.lineno))
        raise TemplateSyntaxError(f"unknown tag {word!r}", token.lineno)

    def if_block(self, token: Token) -> If:
        node = If()
        condition = self.expr(token.value[2:], token.lineno)
        while True:
            body = self.body(("elif", "else", "endif"))
            node.branches.append((condition, body))
            tag = self.tokens[self.pos]
            self.pos += 1
            if tag.value.startswith("elif"):
                condition = self.expr(tag.value[4:], tag.lineno)
                continue
            if tag.value == "else":
                node.otherwise = self.body(("endif",))
                self.pos += 1
            return node

    def for_block(self, token: Token) -> For:
        match = _FOR_RE.match(token.value)
        if match is None:
            raise TemplateSyntaxError("malformed for", token.lineno)
        targets = [name.strip() for name in match.group(1).split(",")]
        node = For(targets, self.expr(match.group(2), token.lineno), [])
        node.body = self.body(("else", "endfor"))
        tag = self.tokens[self.pos]
        self.pos += 1
        if tag.value == "else":
            node.otherwise = self.body(("endfor",))
            self.pos += 1
        return node


class Template:
    """A compiled template: ``Template("Hi {{ name }}").render(name="Ann")``."""

    def __init__(self, source: str, autoescape: bool = False, strict: bool = False, filters=None):
        self.source = source
        self.autoescape = autoescape
        self.strict = strict
        self.filters: Dict[str, Any] = dict(FILTERS)
        self.filters.update(filters or {})
        self.nodes = _Compiler(tokenize(source), self.filters).body(())

    def render(self, data: Optional[Dict[str, Any]] = None, **kwargs: Any) -> str:
        values = dict(data or {})
        values.update(kwargs)
        ctx = Context(values, strict=self.strict)
        out: List[str] = []
        render_body(self.nodes, ctx, out, self.autoescape)
        return "".join(out)


def render(source: str, data: Optional[Dict[str, Any]] = None, **kwargs: Any) -> str:
    return Template(source).render(data, **kwargs)
