"""Other services' events applied to the registry's copies: programmes, BPJS participants, and
what allocation and enrollment decided about each nomination (its seat, domain/one_payer.py).

A consumer batch is applied in a few statements, exactly as its events one by one would be:

* every seat move of the batch is one row of an `UPDATE ... FROM unnest(...)`, the conditions it
  applies under (which seats it follows) travelling with it as data. A nomination touched twice
  in one batch (QuotaAssigned, then EnrolledAtBPJS) takes a second round: the rounds run in
  order, so each sees the seat the one before left, as one by one;
* the BPJS participants of the batch are one `INSERT ... SELECT FROM unnest(...) ON CONFLICT`,
  the last event of a worker winning as it would one by one;
* programmes (ProgrammeDefined, QuotaChanged: a handful a year) are applied one by one, in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import any_, case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Boolean, Date, Text

from libs.events import Envelope, decode
from libs.events.contracts.allocation import (
    AssignmentDecreed,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaChanged,
    QuotaDeclined,
    QuotaReleased,
    QuotaUnseated,
    QuotaWaitlisted,
)
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import CoverageEnded, EnrolledAtBPJS, EnrollmentFailed
from libs.events.contracts.registry import NominationSubmitted
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.sql_arrays import unnest_arrays
from services.registry.adapters.tables import nominations, participants, programmes
from services.registry.domain.one_payer import HOLDING, SEAT_EVENTS, Seat

# For events naming no nomination: the seats they follow (a late or repeated one changes nothing).
_AFTER: dict[type[DomainEvent], frozenset[str]] = {
    # Allocation's release is the last word, also after enrollment said the same first.
    QuotaReleased: frozenset(HOLDING | {Seat.WAITLISTED, Seat.ENROLLMENT_FAILED, Seat.ENDED}),
    AssignmentDecreed: frozenset({Seat.ASSIGNED}),
    EnrolledAtBPJS: frozenset({Seat.ASSIGNED, Seat.DECREED}),
    EnrollmentFailed: HOLDING,
    CoverageEnded: HOLDING,
}
# Enrollment's events may overtake allocation's (two topics, no order between them): they apply
# to a nomination with no recorded seat yet, and the seating events arriving after them do not
# move the nomination back. Only allocation's release or decline has the last word.
_ENROLLMENT_SAID = frozenset({Seat.ENROLLED, Seat.ENROLLMENT_FAILED, Seat.ENDED})
_SEATING = (QuotaAssigned, QuotaWaitlisted, QuotaUnseated)
_ANY_SEAT = frozenset(Seat)


@dataclass(frozen=True)
class SeatMove:
    """One event's change of a nomination's seat, and when it applies.

    Allocation's decisions name the nomination (`nomination_id`); the rest name the worker and
    programme and move the validated nomination there. It applies to a nomination whose seat is
    in `follows`, or has none yet when `from_none`."""

    worker_id: str
    programme_code: str
    nomination_id: str | None
    seat: Seat
    held_by: str | None
    follows: frozenset[str]
    from_none: bool


def seat_move(event: DomainEvent) -> SeatMove | None:
    """What `event` says about a nomination's seat (None: nothing)."""
    held_by: str | None = None
    if isinstance(event, QuotaAssigned):
        seat = Seat.ASSIGNED
    elif isinstance(event, QuotaWaitlisted | QuotaUnseated):
        seat = Seat.WAITLISTED
    elif isinstance(event, QuotaDeclined):
        seat, held_by = Seat.DECLINED, event.held_by
    elif isinstance(event, QuotaReleased):
        seat, held_by = Seat.RELEASED, event.held_by
    elif isinstance(event, AssignmentDecreed):
        seat = Seat.DECREED
    elif isinstance(event, EnrolledAtBPJS):
        seat = Seat.ENROLLED
    elif isinstance(event, EnrollmentFailed):
        seat = Seat.ENROLLMENT_FAILED
    elif isinstance(event, CoverageEnded):
        seat = Seat.ENDED
    else:
        return None
    worker_id: str = getattr(event, "worker_id")  # noqa: B009 (every seat event has it)
    programme_code: str = getattr(event, "programme_code")  # noqa: B009
    nomination_id = getattr(event, "nomination_id", None)
    if nomination_id is not None:
        follows = _ANY_SEAT - _ENROLLMENT_SAID if isinstance(event, _SEATING) else _ANY_SEAT
        return SeatMove(worker_id, programme_code, nomination_id, seat, held_by, follows, True)
    from_none = not isinstance(event, QuotaReleased)
    return SeatMove(worker_id, programme_code, None, seat, held_by, _AFTER[type(event)], from_none)


def _move_statement(batch: Sequence[SeatMove]) -> Any:
    """One round of seat moves, at most one per worker (and per nomination). A nomination is
    matched by its id, or (no id) by worker, programme and status validated, then only from the
    seats the move follows: exactly the WHERE of one event's own UPDATE."""
    m = unnest_arrays(
        {
            "worker_id": Text(),
            "programme_code": Text(),
            "nomination_id": Text(),
            "seat": Text(),
            "held_by": Text(),
            "follows": Text(),
            "from_none": Boolean(),
        },
        (
            [x.worker_id for x in batch],
            [x.programme_code for x in batch],
            [x.nomination_id for x in batch],
            [x.seat.value for x in batch],
            [x.held_by for x in batch],
            [",".join(sorted(x.follows)) for x in batch],
            [x.from_none for x in batch],
        ),
        name="m",
    )
    n = nominations.c
    named = n.nomination_id == m.c.nomination_id
    by_worker = (
        m.c.nomination_id.is_(None)
        & (n.worker_id == m.c.worker_id)
        & (n.programme_code == m.c.programme_code)
        & (n.status == "validated")
    )
    follows = case(
        (n.seat.is_(None), m.c.from_none),
        else_=n.seat == any_(func.string_to_array(m.c.follows, ",")),
    )
    return (
        update(nominations).values(seat=m.c.seat, held_by=m.c.held_by).where(or_(named, by_worker), follows)
    )


def rounds(moves: Sequence[SeatMove]) -> list[list[SeatMove]]:
    """`moves` in rounds run one after another: a move goes to the round after the last one that
    touched its worker or its nomination, so no round moves one nomination twice and each move
    sees what the moves before it left."""
    placed: list[list[SeatMove]] = []
    last: dict[str, int] = {}
    for move in moves:
        keys = [f"w:{move.worker_id}"] + ([f"n:{move.nomination_id}"] if move.nomination_id else [])
        index = max((last[k] + 1 for k in keys if k in last), default=0)
        if index == len(placed):
            placed.append([])
        placed[index].append(move)
        for key in keys:
            last[key] = index
    return placed


async def move_seats(conn: AsyncConnection, moves: Sequence[SeatMove]) -> None:
    """Apply seat moves in order: one statement per round (module doc)."""
    for batch in rounds(moves):
        await conn.execute(_move_statement(batch))


async def enrol_participants(conn: AsyncConnection, enrolled: Sequence[EnrolledAtBPJS]) -> None:
    """The BPJS participants `enrolled` names, in one statement: a worker's last event wins."""
    latest: dict[str, tuple[str, str, date]] = {}
    for event in enrolled:
        latest[event.worker_id] = (event.kpj, event.programme_code, event.coverage_end)
    if not latest:
        return
    p = unnest_arrays(
        {"worker_id": Text(), "kpj": Text(), "programme_code": Text(), "coverage_end": Date()},
        (
            list(latest),
            [kpj for kpj, _, _ in latest.values()],
            [code for _, code, _ in latest.values()],
            [end for _, _, end in latest.values()],
        ),
        name="m",
    )
    rows = select(p.c.worker_id, p.c.kpj, p.c.programme_code, p.c.coverage_end, literal(True))
    names = ["worker_id", "kpj", "programme_code", "coverage_end", "active"]
    stmt = insert(participants).from_select(names, rows)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["worker_id"], set_={k: stmt.excluded[k] for k in names[1:]}
        )
    )


async def _programme_defined(conn: AsyncConnection, event: ProgrammeDefined) -> None:
    row: dict[str, Any] = {
        "programme_code": event.programme_code,
        "funder": event.funder.value,
        "jurisdiction": event.jurisdiction,
        "coverage_start": event.coverage_start,
        "coverage_end": event.coverage_end,
        "definition": event.model_dump(mode="json"),
    }
    stmt = insert(programmes).values(row)
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["programme_code"], set_={k: stmt.excluded[k] for k in row})
    )


async def _seats_changed(conn: AsyncConnection, event: QuotaChanged) -> None:
    """Keep the registry's copy of the programme's seats current: the door refuses a regency x
    sector without seats (NO_SEAT_IN_PROGRAMME), and a quota change may open or close one."""
    row = (
        await conn.execute(
            select(programmes.c.definition)
            .where(programmes.c.programme_code == event.programme_code)
            .with_for_update()
        )
    ).first()
    if row is None:
        return
    cell = {"regency_code": event.regency_code, "sector": event.sector}
    quotas = [q for q in row.definition["quotas"] if {k: q[k] for k in cell} != cell]
    quotas.append({**cell, "seats": event.seats})
    await conn.execute(
        update(programmes)
        .where(programmes.c.programme_code == event.programme_code)
        .values(definition={**row.definition, "quotas": quotas})
    )


async def project_consumed_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Apply other services' events, in order, to the registry's copies (module doc)."""
    moves: list[SeatMove] = []
    enrolled: list[EnrolledAtBPJS] = []
    for envelope in envelopes:
        if envelope.event_type == NominationSubmitted.event_type:
            continue  # decided by the inbound handler into events of its own; its inbox copy is sealed
        event = decode(envelope)
        move = seat_move(event) if envelope.event_type in SEAT_EVENTS else None
        if move is not None:
            moves.append(move)
        # Each table's changes keep their order; no table here reads another, so they may be
        # written table by table.
        if isinstance(event, ProgrammeDefined):
            await _programme_defined(conn, event)
        elif isinstance(event, QuotaChanged):
            await _seats_changed(conn, event)
        elif isinstance(event, EnrolledAtBPJS):
            enrolled.append(event)
    await move_seats(conn, moves)
    await enrol_participants(conn, enrolled)


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one of another service's events to the registry's copies (an audit's replay)."""
    await project_consumed_batch(conn, [envelope])


async def project_consumed_in(tx: StoreTransaction, envelopes: Sequence[Envelope]) -> None:
    """`project_consumed_batch` in a transaction of the registry's PostgreSQL store (the Reactor's)."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the registry's projection needs a PostgreSQL transaction, not {type(tx).__name__}")
    await project_consumed_batch(tx.conn, envelopes)
