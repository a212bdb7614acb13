"""Reading and writing CSV text, with delimiter sniffing and type inference."""

from __future__ import annotations

import csv
import io
from typing import Optional

from .table import Table, TableError
from .values import format_value, infer

_CANDIDATES = ",;\t|"


def sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the header into the most columns (ties: first candidate)."""
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    best, best_count = ",", 0
    for candidate in _CANDIDATES:
        count = len(next(csv.reader([header], delimiter=candidate)))
        if count > best_count:
            best, best_count = candidate, count
    return best


def read_csv(text: str, delimiter: Optional[str] = None, infer_types: bool = True) -> Table:
    """Parse CSV text whose first row is the header."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise TableError("CSV input is empty")
    delimiter = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    rows = []
    for line_number, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != len(header):
            raise TableError(f"line {line_number}: expected {len(header)} fields, got {len(record)}")
        rows.append([infer(cell) if infer_types else cell for cell in record])
    return Table(header, rows)


def write_csv(table: Table, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([format_value(value) for value in row])
    return buffer.getvalue()
