"""The bench's SQL counts: statements sorted by kind and by the service role that ran them, rows
written per service schema, all as differences between two readings, per worker."""

from __future__ import annotations

import asyncio

import pytest

from lindung_cli.benchmarks import sql_counts
from lindung_cli.benchmarks.sql_counts import (
    SqlReading,
    by_kind,
    group_statements,
    report,
    service_of_role,
    statement_kind,
    top,
)


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("SELECT 1", "reads"),
        ("  select * from registry.events", "reads"),
        ("/* relay */ SELECT id FROM outbox", "reads"),
        ("-- why\nINSERT INTO x VALUES ($1)", "writes"),
        ("UPDATE allocation.counters SET n = n + $1", "writes"),
        ("DELETE FROM inbox", "writes"),
        ("WITH moved AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM moved", "writes"),
        ("WITH wanted AS (SELECT 1) SELECT * FROM wanted", "reads"),
        ("COPY t FROM STDIN", "writes"),
        ("COMMIT", "commits"),
        ("BEGIN ISOLATION LEVEL READ COMMITTED", "other"),
        ("SAVEPOINT sa_1", "other"),
        ("", "other"),
    ],
)
def test_a_statement_is_sorted_by_its_first_word(query: str, kind: str) -> None:
    assert statement_kind(query) == kind


def test_a_role_is_a_service_only_with_the_prefix_and_a_known_name() -> None:
    assert service_of_role("lindung_registry", "lindung_") == "registry"
    assert service_of_role("lindung_bpjs_simulator", "lindung_") == "bpjs_simulator"
    assert service_of_role("postgres", "lindung_") is None
    assert service_of_role("lindung_auditor", "lindung_") is None
    assert service_of_role("registry", "lindung_") is None


def test_calls_are_summed_per_service_and_query_then_kind() -> None:
    grouped = group_statements(
        [
            ("lindung_registry", "SELECT 1", 3),
            ("lindung_registry", "INSERT INTO a VALUES (1)", 2),
            ("lindung_registry", "select 2", 1),
            ("lindung_registry", "SELECT 1", 1),
            ("postgres", "SELECT 1", 100),
        ],
        "lindung_",
    )
    assert grouped == {"registry": {"SELECT 1": 4, "INSERT INTO a VALUES (1)": 2, "select 2": 1}}
    assert by_kind(grouped["registry"]) == {"reads": 5, "writes": 2, "commits": 0, "other": 0}


def test_the_top_statements_are_reads_and_writes_most_run_first_in_one_line() -> None:
    calls = {"COMMIT": 99, "SELECT\n  1": 3, "INSERT INTO a VALUES (1)": 7, "SELECT 2": 0}
    assert top(calls) == [
        {"calls": 7, "query": "INSERT INTO a VALUES (1)"},
        {"calls": 3, "query": "SELECT 1"},
    ]
    assert len(top({f"SELECT {i}": i + 1 for i in range(9)})) == 5


def reading(scale: int, statements: bool = True) -> SqlReading:
    return SqlReading(
        statements={
            "registry": {"SELECT 1": 10 * scale, "INSERT INTO a VALUES (1)": 20 * scale, "COMMIT": scale}
        }
        if statements
        else None,
        rows={
            "registry": {"inserted": 30 * scale, "updated": 5 * scale, "deleted": 0},
            "public": {"inserted": 7, "updated": 0, "deleted": 0},
        },
        commits=4 * scale,
        rollbacks=scale,
    )


def test_the_report_is_the_difference_per_service_and_per_worker() -> None:
    found = report(reading(1), reading(3), workers=10)
    assert found["source"] == "pg_stat_statements"
    registry = found["by_service"]["registry"]
    assert registry["rows"] == {"inserted": 60, "updated": 10, "deleted": 0}
    assert registry["rows_written"] == 70
    assert registry["statements"] == {"reads": 20, "writes": 40, "commits": 2, "other": 0}
    assert registry["statements_run"] == 60
    assert registry["top_statements"][0] == {"calls": 40, "query": "INSERT INTO a VALUES (1)"}
    assert registry["per_worker"]["statements_run"] == 6.0
    assert registry["per_worker"]["rows_written"] == 7.0
    assert registry["per_worker"]["statements_writes"] == 4.0
    # Only the services' schemas (not `public`); the database's commits.
    assert set(found["by_service"]) == {"registry"}
    assert found["commits"] == 8 and found["rollbacks"] == 2
    assert found["per_worker"] == {"rows_written": 7.0, "commits": 0.8, "statements_run": 6.0}


def test_without_pg_stat_statements_rows_and_commits_still_tell() -> None:
    found = report(reading(1, statements=False), reading(2, statements=False), workers=5)
    assert found["source"] == "pg_stat_user_tables"
    assert "statements" not in found["by_service"]["registry"]
    assert found["per_worker"] == {"rows_written": 7.0, "commits": 0.8}


def test_the_still_reading_waits_until_rows_stay_still_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows move on the 2nd and 4th reading, then stay: the reading after 3 still seconds is kept.
    readings = iter([reading(1), reading(2), reading(2), reading(3), *[reading(3)] * 10])
    calls: list[int] = []

    async def fake_read(engine: object, prefix: str) -> SqlReading:
        calls.append(1)
        return next(readings)

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(sql_counts, "read", fake_read)
    monkeypatch.setattr(sql_counts.asyncio, "sleep", no_sleep)
    found = asyncio.run(sql_counts.read_still(None, "lindung_", still_s=3.0))  # type: ignore[arg-type]
    assert found.rows == reading(3).rows and len(calls) == 7
