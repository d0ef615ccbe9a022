"""A batch's rows of one read-model table written in one statement, each row setting only the
columns it names (services/dashboard/domain/read_model.py: `Changes.written`).

The rows go as one JSON array: `jsonb_populate_record` reads each into the table's row type, and
`r ? 'column'` tells a column the row sets from one it leaves alone (a NULL it sets, such as an
assignment clearing the waitlist position, is a value). A new row takes the table's default for
what it does not set; an existing row keeps it. A batch names each key once (its facts merged in
event order), which is what MERGE asks of its source.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, Table, text
from sqlalchemy.sql.elements import TextClause


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _default_of(column: Column[Any]) -> str:
    """The SQL of what a new row holds when the batch does not set `column`."""
    default = column.server_default
    if default is None:
        return "NULL"
    return str(getattr(default, "arg", "NULL"))


def _set(column: str, otherwise: str) -> str:
    literal = column.replace("'", "''")
    return f"CASE WHEN v.r ? '{literal}' THEN v.{_name(column)} ELSE {otherwise} END"


@cache
def merge_statement(table: Table, key: tuple[str, ...], schema: str) -> TextClause:
    """MERGE of `:rows` (a JSON array of row objects) into `table` in `schema`, matched on `key`."""
    target = f"{_name(schema)}.{_name(table.name)}"
    columns = [c.name for c in table.columns]
    settable = [c for c in columns if c not in key]
    matched = (
        "UPDATE SET " + ", ".join(f"{_name(c)} = {_set(c, 't.' + _name(c))}" for c in settable)
        if settable
        else "DO NOTHING"
    )
    values = [f"v.{_name(c)}" if c in key else _set(c, _default_of(table.c[c])) for c in columns]
    return text(
        f"MERGE INTO {target} AS t"
        f" USING (SELECT e.r AS r, (jsonb_populate_record(CAST(NULL AS {target}), e.r)).*"
        " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e(r)) AS v"
        f" ON {' AND '.join(f't.{_name(k)} = v.{_name(k)}' for k in key)}"
        f" WHEN MATCHED THEN {matched}"
        f" WHEN NOT MATCHED THEN INSERT ({', '.join(_name(c) for c in columns)}) VALUES ({', '.join(values)})"
    )


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"a read-model row holds a {type(value).__name__}")


def rows_json(rows: Sequence[dict[str, Any]]) -> str:
    """The `:rows` parameter of `merge_statement`: the rows as one JSON array."""
    return json.dumps(list(rows), default=_json_value)
