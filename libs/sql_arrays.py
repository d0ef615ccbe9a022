"""Many rows in one statement: one typed array parameter per column, `unnest`ed into a table.

An executemany runs one statement per row on the server, and bind parameters stop at 32,767;
an array per column is one parameter whatever the number of rows, so a consumer batch's rows of
one read-model table go in (or join an UPDATE) as one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Table, bindparam, column, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

__all__ = ["columns_of", "insert_rows", "unnest_arrays", "unnest_rows"]


def unnest_arrays(
    columns: Mapping[str, TypeEngine[Any]], values: Sequence[Sequence[Any]], *, name: str = "v"
) -> TableValuedAlias:
    """A table `name` with `columns`, its rows zipped from `values` (one sequence per column)."""
    arrays = [
        bindparam(None, list(column_values), type_=ARRAY(kind))
        for column_values, kind in zip(values, columns.values(), strict=True)
    ]
    typed = [column(c, kind) for c, kind in columns.items()]
    return func.unnest(*arrays).table_valued(*typed).render_derived(name=name)


def unnest_rows(
    columns: Mapping[str, TypeEngine[Any]], rows: Sequence[Mapping[str, Any]], *, name: str = "v"
) -> TableValuedAlias:
    """`unnest_arrays` of row dicts (each names every one of `columns`)."""
    return unnest_arrays(columns, [[row[c] for row in rows] for c in columns], name=name)


def columns_of(table: Table, names: Iterable[str] | None = None) -> dict[str, TypeEngine[Any]]:
    """`table`'s column types by name: all of them in the table's order, or those `names` says."""
    if names is None:
        return {c.name: c.type for c in table.columns}
    return {n: table.c[n].type for n in names}


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """One INSERT of every row (each names the same columns as the first), PostgreSQL's dialect so
    callers can add ON CONFLICT."""
    names = list(rows[0])
    source = unnest_rows(columns_of(table, names), rows)
    return insert(table).from_select(names, select(*(source.c[n] for n in names)))
