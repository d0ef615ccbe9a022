"""Which database errors the consumer waits out (outage) and which it counts as the event's fault."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from libs.messaging.consumer import is_outage


class _PgError(Exception):
    """An asyncpg error as SQLAlchemy's adapter carries it: a message and its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "sqlstate",
    [
        "57P01",  # terminating connection due to administrator command (fast shutdown)
        "57P02",  # crash shutdown
        "57P03",  # the database system is starting up / shutting down
        "08006",  # connection failure
        "08001",  # unable to establish a connection
        "53300",  # too many connections (while the pool reconnects after a restart)
    ],
)
def test_a_server_going_down_or_coming_up_is_an_outage(sqlstate: str) -> None:
    assert is_outage(DBAPIError("SELECT 1", {}, _PgError(sqlstate)))


@pytest.mark.parametrize("sqlstate", ["22012", "23505", "42P01", "40001", ""])
def test_errors_of_the_statement_are_not_outages(sqlstate: str) -> None:
    assert not is_outage(DBAPIError("SELECT 1", {}, _PgError(sqlstate)))
    assert not is_outage(IntegrityError("INSERT", {}, _PgError(sqlstate)))


def test_connection_level_errors_are_outages() -> None:
    assert is_outage(OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")))
    assert is_outage(ConnectionResetError("reset by peer"))
    assert not is_outage(ValueError("bad payload"))


def test_a_connection_asyncpg_saw_dropped_mid_operation_is_an_outage() -> None:
    class AdaptedError(Exception):
        """SQLAlchemy's adapter error, raised from asyncpg's."""

    dropped = AdaptedError("cannot switch to state 12")
    dropped.__cause__ = asyncpg.exceptions.InternalClientError("cannot switch to state 12")
    assert is_outage(DBAPIError("SELECT 1", {}, dropped))
