"""tabkit: small in-memory tables with CSV, Markdown and plain-text rendering."""

from .csvio import read_csv, write_csv
from .markdown import from_markdown, to_markdown
from .table import Table, TableError
from .textgrid import to_text
from .values import format_value, infer

__all__ = [
    "Table",
    "TableError",
    "format_value",
    "from_markdown",
    "infer",
    "read_csv",
    "to_markdown",
    "to_text",
    "write_csv",
]
