"""The template tree and how each node renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

from .context import Context
from .errors import TemplateError
from .filters import escape

Evaluator = Callable[[Context], Any]


class Node:
    def render(self, ctx: Context, out: List[str], autoescape: bool) -> None:
        raise NotImplementedError


@dataclass
class Text(Node):
    text: str

    def render(self, ctx, out, autoescape):
        out.append(self.text)


@dataclass
class Output(Node):
    expr: Evaluator

    def render(self, ctx, out, autoescape):
        value = self.expr(ctx)
        if value is None:
            return
        out.append(escape(value) if autoescape else str(value))


def render_body(body: List[Node], ctx: Context, out: List[str], autoescape: bool) -> None:
    for node in body:
        node.render(ctx, out, autoescape)


@dataclass
class If(Node):
    branches: List[Tuple[Evaluator, List[Node]]] = field(default_factory=list)
    otherwise: Optional[List[Node]] = None

    def render(self, ctx, out, autoescape):
        for condition, body in self.branches:
            if condition(ctx):
                render_body(body, ctx, out, autoescape)
                return
        if self.otherwise is not None:
            render_body(self.otherwise, ctx, out, autoescape)


class LoopInfo:
    """The ``loop`` variable inside ``{% for %}``."""

    def __init__(self, index0: int, length: int):
        self.index0 = index0
        self.index = index0 + 1
        self.length = length
        self.first = index0 == 0
        self.last = index0 == length - 1
        self.revindex = length - index0


@dataclass
class For(Node):
    targets: List[str]
    iterable: Evaluator
    body: List[Node]
    otherwise: Optional[List[Node]] = None

    def render(self, ctx, out, autoescape):
        items = list(self.iterable(ctx) or ())
        if not items:
            if self.otherwise is not None:
                render_body(self.otherwise, ctx, out, autoescape)
            return
        ctx.push()
        try:
            for index, item in enumerate(items):
                self._bind(ctx, item)
                ctx.set("loop", LoopInfo(index, len(items)))
                render_body(self.body, ctx, out, autoescape)
        finally:
            ctx.pop()

    def _bind(self, ctx: Context, item: Any) -> None:
        if len(self.targets) == 1:
            ctx.set(self.targets[0], item)
            return
        values = tuple(item)
        if len(values) != len(self.targets):
            raise TemplateError(f"cannot unpack {len(values)} values into {len(self.targets)} names")
        for name, value in zip(self.targets, values):
            ctx.set(name, value)


@dataclass
class Set(Node):
    name: str
    expr: Evaluator

    def render(self, ctx, out, autoescape):
        ctx.set(self.name, self.expr(ctx))
