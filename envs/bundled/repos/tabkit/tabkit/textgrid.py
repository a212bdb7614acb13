"""Plain-text box tables for terminals."""

from __future__ import annotations

from typing import List

from .table import Table
from .values import display_width, format_value, pad


def to_text(table: Table, max_rows: int = 0) -> str:
    """Render ``table`` in a ``+---+`` box; ``max_rows`` > 0 elides rows past that count."""
    rows = table.rows
    hidden = 0
    if max_rows and len(rows) > max_rows:
        hidden = len(rows) - max_rows
        rows = rows[:max_rows]
    cells = [[format_value(v) for v in row] for row in rows]
    numeric = set(table.numeric_columns())
    widths = [
        max([display_width(name)] + [display_width(row[i]) for row in cells])
        for i, name in enumerate(table.columns)
    ]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines: List[str] = [border]
    lines.append("| " + " | ".join(pad(n, w, "left") for n, w in zip(table.columns, widths)) + " |")
    lines.append(border)
    for row in cells:
        parts = [
            pad(cell, w, "right" if name in numeric else "left")
            for cell, w, name in zip(row, widths, table.columns)
        ]
        lines.append("| " + " | ".join(parts) + " |")
    lines.append(border)
    if hidden:
        lines.append(f"({hidden} more rows)")
    return "\n".join(lines) + "\n"
