"""One self-contained HTML page: the tables and the PNGs embedded as base64 data URIs.

The page loads nothing from anywhere (no scripts, fonts, style sheets or images by URL), so it
can be mailed, archived or opened offline and always shows the same thing.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from swe_srl.report.plots import Figure
from swe_srl.report.tables import TableData

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
caption { caption-side: top; font-weight: bold; text-align: left; padding: .3em 0; }
th, td { border: 1px solid #ddd; padding: .3em .6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #666; font-size: .9em; } figure { margin: 1em 0; } img { max-width: 100%; }
"""


def table_html(table: TableData) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{html.escape(cell)}</td>'
            if table.is_numeric(i)
            else f"<td>{html.escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    note = f'<p class="note">{html.escape(table.caption)}</p>' if table.caption else ""
    return (
        f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


def figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
    title = html.escape(figure.title)
    image = f'<img alt="{title}" src="data:image/png;base64,{data}">'
    return f"<figure>{image}<figcaption>{title}</figcaption></figure>"


def _section(name: str, tables: Sequence[TableData], figures: Sequence[Figure]) -> str:
    if not tables and not figures:
        return ""
    parts = [f"<h2>{html.escape(name)}</h2>"]
    parts += [table_html(t) for t in tables]
    parts += [figure_html(f) for f in figures]
    return "\n".join(parts)


def render_page(
    title: str,
    subtitle: str,
    eval_part: tuple[Sequence[TableData], Sequence[Figure]],
    training_part: tuple[Sequence[TableData], Sequence[Figure]],
    notes: Sequence[str] = (),
) -> str:
    """The whole page as one string."""
    note_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    sections = [_section("Evaluation", *eval_part), _section("Training", *training_part)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><p class="note">{html.escape(subtitle)}</p>{note_html}\n'
        + "\n".join(s for s in sections if s)
        + "\n</body></html>\n"
    )


def write_page(path: Path, page: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
