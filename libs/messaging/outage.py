"""Whether a database error is an outage (wait it out) or the work's own fault (count it).

The consumer retries an outage until the database answers again and the HTTP side answers it
with 503; any other error is the event's or the request's.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATEs of a server going down or coming up, not of a bad statement: connection exceptions
# (class 08), admin/crash shutdown and "the database system is starting up" (57P01-57P03), and
# too many connections or out of resources while it recovers (53000, 53100, 53200, 53300).
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53000", "53100", "53200", "53300"})


_DROPPED_CONNECTION = (asyncpg.exceptions.InternalClientError, asyncpg.exceptions.ConnectionDoesNotExistError)


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error (SQLAlchemy wraps asyncpg's, which carries it), or ''."""
    for candidate in (getattr(exc, "orig", None), exc.__cause__, exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return ""


def is_outage(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable, not that the event is bad."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | OSError):
        return True
    code = _sqlstate(exc)
    if code.startswith("08") or code in _OUTAGE_SQLSTATES:
        return True
    # asyncpg's own word for a connection the server dropped mid-operation ("cannot switch to
    # state ...; another operation is in progress", "connection was closed in the middle of
    # operation"): the next connection from the pool is sound.
    cause = getattr(exc, "orig", None)
    cause = getattr(cause, "__cause__", None) or cause
    return isinstance(cause, _DROPPED_CONNECTION)
