"""The Table: named columns over a list of rows, with selection, sorting and grouping."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence

from .values import is_number


class TableError(ValueError):
    """A table operation got a bad column name or malformed rows."""


def _mean(values: List[Any]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


AGGREGATES: Dict[str, Callable[[List[Any]], Any]] = {
    "count": lambda values: sum(1 for v in values if v is not None),
    "sum": lambda values: sum(v for v in values if v is not None),
    "min": lambda values: min((v for v in values if v is not None), default=None),
    "max": lambda values: max((v for v in values if v is not None), default=None),
    "mean": _mean,
    "first": lambda values: values[0] if values else None,
}


class Table:
    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]] = ()):
        if len(set(columns)) != len(columns):
            raise TableError(f"duplicate column names in {list(columns)}")
        self.columns: List[str] = list(columns)
        self.rows: List[List[Any]] = []
        for row in rows:
            self.append(row)

    @classmethod
    def from_dicts(cls, records: Sequence[Mapping[str, Any]]) -> "Table":
        columns: List[str] = []
        for record in records:
            columns.extend(key for key in record if key not in columns)
        return cls(columns, [[record.get(c) for c in columns] for record in records])

    def append(self, row: Sequence[Any]) -> None:
        if len(row) != len(self.columns):
            raise TableError(f"row has {len(row)} cells, table has {len(self.columns)} columns")
        self.rows.append(list(row))

    def index(self, column: str) -> int:
        try:
            return self.columns.index(column)
        except ValueError:
            raise TableError(f"no column {column!r}; columns are {self.columns}") from None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for row in self.rows:
            yield dict(zip(self.columns, row))

    def column(self, name: str) -> List[Any]:
        i = self.index(name)
        return [row[i] for row in self.rows]

    def numeric_columns(self) -> List[str]:
        return [
            name
            for name in self.columns
            if any(v is not None for v in self.column(name))
            and all(v is None or is_number(v) for v in self.column(name))
        ]

    def select(self, *names: str) -> "Table":
        indexes = [self.index(n) for n in names]
        return Table(list(names), [[row[i] for i in indexes] for row in self.rows])

    def where(self, predicate: Optional[Callable[[Dict[str, Any]], bool]] = None, **equals: Any) -> "Table":
        for name in equals:
            self.index(name)
        kept = [
            row
            for row, record in zip(self.rows, self)
            if (predicate is None or predicate(record)) and all(record[k] == v for k, v in equals.items())
        ]
        return Table(self.columns, kept)

    def head(self, n: int = 5) -> "Table":
        return Table(self.columns, self.rows[:n])

    def sort_by(self, *names: str, reverse: bool = False) -> "Table":
        """Stable sort on one or more columns; empty (None) cells always go last."""
        indexes = [self.index(n) for n in names]
        rows = list(self.rows)
        for i in reversed(indexes):
            present = [row for row in rows if row[i] is not None]
            missing = [row for row in rows if row[i] is None]
            rows = sorted(present, key=lambda row: row[i], reverse=reverse) + missing
        return Table(self.columns, rows)

    def add_column(self, name: str, compute: Callable[[Dict[str, Any]], Any]) -> "Table":
        if name in self.columns:
            raise TableError(f"column {name!r} already exists")
        rows = [row + [compute(record)] for row, record in zip(self.rows, self)]
        return Table([*self.columns, name], rows)

    def group_by(self, key: str, **aggregates: str) -> "Table":
        """One row per distinct ``key``: ``group_by("team", total="sum:points")``."""
        key_index = self.index(key)
        groups: Dict[Any, List[List[Any]]] = {}
        for row in self.rows:
            groups.setdefault(row[key_index], []).append(row)
        specs = []
        for out_name, spec in aggregates.items():
            func_name, _, column = spec.partition(":")
            if func_name not in AGGREGATES:
                raise TableError(f"unknown aggregate {func_name!r}")
            specs.append((AGGREGATES[func_name], self.index(column or key)))
        rows = [
            [value] + [func([row[i] for row in members]) for func, i in specs]
            for value, members in groups.items()
        ]
        return Table([key, *aggregates], rows)

    def join(self, other: "Table", on: str) -> "Table":
        """Inner join on the column ``on``; right-hand columns keep their names."""
        right_index = other.index(on)
        lookup: Dict[Any, List[List[Any]]] = {}
        for row in other.rows:
            lookup.setdefault(row[right_index], []).append(row)
        extra = [c for c in other.columns if c != on]
        extra_idx = [other.index(c) for c in extra]
        left_index = self.index(on)
        rows = [
            left + [right[i] for i in extra_idx]
            for left in self.rows
            for right in lookup.get(left[left_index], [])
        ]
        return Table([*self.columns, *extra], rows)
