"""Many rows in one statement: one typed array parameter per column, `unnest`ed into a table.

An executemany runs one statement per row on the server, and bind parameters stop at 32,767;
an array per column is one parameter whatever the number of rows, so a consumer batch's rows of
one read-model table go in (or join an UPDATE) as one statement.

The statement's text is also the same whatever the number of rows or values (`any_of` instead
of an expanding IN, `insert_rows` instead of an executemany): the driver keeps a prepared
statement per distinct text and connection, and texts that vary with each batch's size fill
those caches with large statements (issue 17: memory climbing on a long run).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, JSON, ColumnElement, Table, Text, any_, bindparam, cast, column, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

__all__ = ["any_of", "columns_of", "insert_rows", "unnest_arrays", "unnest_rows"]

# The name of the ordinality column `unnest_arrays(..., ordered=True)` adds.
ORDINALITY = "ord"


def any_of(target: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`target IN values` as `target = ANY(:array)`: one array parameter of `target`'s type."""
    return target == any_(bindparam(None, list(values), type_=ARRAY(target.type)))


def unnest_arrays(
    columns: Mapping[str, TypeEngine[Any]],
    values: Sequence[Sequence[Any]],
    *,
    name: str = "v",
    ordered: bool = False,
) -> TableValuedAlias:
    """A table `name` with `columns`, its rows zipped from `values` (one sequence per column);
    `ordered`: with a column ORDINALITY numbering the rows from 1."""
    arrays = [
        bindparam(None, list(column_values), type_=ARRAY(kind))
        for column_values, kind in zip(values, columns.values(), strict=True)
    ]
    typed = [column(c, kind) for c, kind in columns.items()]
    rows = func.unnest(*arrays).table_valued(*typed, with_ordinality=ORDINALITY if ordered else None)
    return rows.render_derived(name=name)


def unnest_rows(
    columns: Mapping[str, TypeEngine[Any]],
    rows: Sequence[Mapping[str, Any]],
    *,
    name: str = "v",
    ordered: bool = False,
) -> TableValuedAlias:
    """`unnest_arrays` of row dicts (each names every one of `columns`)."""
    return unnest_arrays(columns, [[row[c] for row in rows] for c in columns], name=name, ordered=ordered)


def columns_of(table: Table, names: Iterable[str] | None = None) -> dict[str, TypeEngine[Any]]:
    """`table`'s column types by name: all of them in the table's order, or those `names` says."""
    if names is None:
        return {c.name: c.type for c in table.columns}
    return {n: table.c[n].type for n in names}


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]], *, in_order: bool = False) -> Insert:
    """One INSERT of every row (each names the same columns as the first), PostgreSQL's dialect so
    callers can add ON CONFLICT. `in_order`: rows inserted in the order given (identity columns
    numbered in that order). A JSON column's values travel as JSON text and are cast back: the
    driver has no codec for an array of jsonb."""
    names = list(rows[0])
    kinds = columns_of(table, names)
    as_json = {n for n, kind in kinds.items() if isinstance(kind, JSON)}
    sent = {n: Text() if n in as_json else kind for n, kind in kinds.items()}
    values = [[json.dumps(row[n]) if n in as_json else row[n] for row in rows] for n in names]
    source = unnest_arrays(sent, values, ordered=in_order)
    picked = select(*(cast(source.c[n], kinds[n]) if n in as_json else source.c[n] for n in names))
    if in_order:
        picked = picked.order_by(source.c[ORDINALITY])
    return insert(table).from_select(names, picked)
