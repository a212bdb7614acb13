"""GitHub-flavoured Markdown tables: rendering with alignment, and parsing back."""

from __future__ import annotations

import re
from typing import List, Optional, Sequence

from .table import Table, TableError
from .values import display_width, format_value, infer, is_number, pad

_SPLIT_RE = re.compile(r"(?<!\\)\|")
_RULE_RE = re.compile(r"^:?-+:?$")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _alignments(table: Table, align: Optional[Sequence[str]]) -> List[str]:
    if align is not None:
        if len(align) != len(table.columns):
            raise TableError("one alignment per column is needed")
        return list(align)
    numeric = set(table.numeric_columns())
    return ["right" if name in numeric else "left" for name in table.columns]


def _rule(width: int, align: str) -> str:
    if align == "right":
        return "-" * (width - 1) + ":"
    if align == "center":
        return ":" + "-" * (width - 2) + ":"
    return "-" * width


def to_markdown(table: Table, align: Optional[Sequence[str]] = None) -> str:
    """Render ``table`` with padded columns; numeric columns are right-aligned by default."""
    aligns = _alignments(table, align)
    header = [_escape(name) for name in table.columns]
    body = [[_escape(format_value(v)) for v in row] for row in table.rows]
    widths = [
        max([3, display_width(header[i])] + [display_width(row[i]) for row in body])
        for i in range(len(header))
    ]
    lines = ["| " + " | ".join(pad(h, w, "left") for h, w in zip(header, widths)) + " |"]
    lines.append("| " + " | ".join(_rule(w, a) for w, a in zip(widths, aligns)) + " |")
    for row in body:
        lines.append("| " + " | ".join(pad(c, w, a) for c, w, a in zip(row, widths, aligns)) + " |")
    return "\n".join(lines) + "\n"


def _cells(line: str) -> List[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _SPLIT_RE.split(line)]


def from_markdown(text: str, infer_types: bool = True) -> Table:
    """Parse the first Markdown table in ``text``."""
    lines = [line for line in text.splitlines() if line.strip().startswith("|")]
    if len(lines) < 2:
        raise TableError("no Markdown table found")
    header = _cells(lines[0])
    rule = _cells(lines[1])
    if len(rule) != len(header) or not all(_RULE_RE.match(cell) for cell in rule):
        raise TableError("the second table line must be the |---| rule")
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        cells = _cells(line)
        if len(cells) != len(header):
            raise TableError(f"table line {number}: expected {len(header)} cells, got {len(cells)}")
        rows.append([infer(c) if infer_types else c for c in cells])
    return Table(header, rows)


def alignment_of(rule_cell: str) -> str:
    """The alignment a rule cell such as ``:---:`` asks for."""
    if rule_cell.startswith(":") and rule_cell.endswith(":"):
        return "center"
    if rule_cell.endswith(":"):
        return "right"
    return "left"


def is_numeric_column(values) -> bool:
    return all(v is None or is_number(v) for v in values)
