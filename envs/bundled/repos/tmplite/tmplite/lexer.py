"""Split template source into text, variable, block and comment tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

from .errors import TemplateSyntaxError

TEXT, VAR, BLOCK = "text", "var", "block"
_TAG_RE = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


@dataclass
class Token:
    kind: str
    value: str
    lineno: int


def _strip_markers(raw: str):
    """Return (inner text, trim-left, trim-right) for one tag such as ``{%- if x -%}``."""
    inner = raw[2:-2]
    trim_left = inner.startswith("-")
    trim_right = inner.endswith("-")
    if trim_left:
        inner = inner[1:]
    if trim_right:
        inner = inner[:-1]
    return inner.strip(), trim_left, trim_right


def tokenize(source: str) -> List[Token]:
    tokens: List[Token] = []
    lineno = 1
    trim_next = False
    for piece in _TAG_RE.split(source):
        if not piece:
            continue
        if piece[:2] in ("{{", "{%", "{#") and piece[-2:] in ("}}", "%}", "#}"):
            inner, trim_left, trim_right = _strip_markers(piece)
            if trim_left and tokens and tokens[-1].kind == TEXT:
                tokens[-1].value = tokens[-1].value.rstrip()
            if piece.startswith("{{"):
                tokens.append(Token(VAR, inner, lineno))
            elif piece.startswith("{%"):
                tokens.append(Token(BLOCK, inner, lineno))
            trim_next = trim_right
        else:
            if "{{" in piece or "{%" in piece:
                raise TemplateSyntaxError("unclosed tag", lineno + piece.count("\n", 0, piece.find("{")))
            text = piece.lstrip() if trim_next else piece
            tokens.append(Token(TEXT, text, lineno))
            trim_next = False
        lineno += piece.count("\n")
    return tokens
