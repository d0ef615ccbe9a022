"""Content hashes, volatile columns, and the WIB calendar of point-in-time questions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, DateTime, Identity, Integer, MetaData, Table, Text, func, text

from libs.audit.compare import content_hash, volatile_columns
from libs.audit.history import end_of_day, end_of_month, local_day, year_bounds
from services.registry.adapters.tables import programmes


def test_the_content_hash_ignores_row_order() -> None:
    assert content_hash(["b", "a", "c"]) == content_hash(["c", "b", "a"]) != content_hash(["a", "b"])


def test_columns_the_database_fills_at_write_time_are_volatile() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, Identity(), primary_key=True),
        Column("name", Text),
        Column("created_at", DateTime, server_default=func.now()),
        Column("touched_at", DateTime, server_default=text("CURRENT_TIMESTAMP")),
        Column("flag", Text, server_default=text("'no'")),
    )
    assert volatile_columns(table) == ("created_at", "id", "touched_at")
    assert volatile_columns(table, ["name"]) == ("created_at", "id", "name", "touched_at")
    assert volatile_columns(programmes) == ("updated_at",)  # registry leaves it to the database


def test_dates_are_read_in_wib() -> None:
    assert end_of_day(date(2026, 3, 31)).astimezone(UTC) == datetime(
        2026, 3, 31, 16, 59, 59, 999999, tzinfo=UTC
    )
    assert end_of_month(2026, 12) == end_of_day(date(2026, 12, 31))
    assert end_of_month(2026, 2) == end_of_day(date(2026, 2, 28))
    start, end = year_bounds(2026)
    assert start.astimezone(UTC) == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert local_day(datetime(2026, 3, 31, 17, 30, tzinfo=UTC)) == date(2026, 4, 1)
