"""Projection of the registry's own events into its read models (same transaction as the append).

`project` applies one event; `project_batch` applies a list with the same result in fewer
statements (the upload's batched path): rows created by the batch are built in memory, their
later events folded into them, and inserted at once. Both derive every change from `_changes`,
so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

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
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationSubmitted,
    NominationWithdrawn,
    PersonForgotten,
    ReferenceDataImported,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.pii import FORGOTTEN
from services.registry.adapters.tables import nominations, participants, programmes, reference_versions
from services.registry.domain.one_payer import HOLDING, SEAT_EVENTS, Seat

INCREMENT = object()  # marks a counter column to add 1 to
# What a forgotten person's nominations keep of them (what projecting their events opened
# without a key writes too, so a replay equals the scrubbed rows). Status, counts, dates stay.
FORGOTTEN_COLUMNS: dict[str, Any] = {"nik": FORGOTTEN, "full_name": FORGOTTEN, "birth_date": None}


def known_date(value: date | str) -> date | None:
    """A birth date, or None where it is forgotten."""
    return value if isinstance(value, date) else None


def _nominated_row(event: WorkerNominated, at: Any) -> dict[str, Any]:
    return {
        "nomination_id": event.nomination_id,
        "worker_id": event.worker_id,
        "programme_code": event.programme_code,
        "regency_code": event.regency_code,
        "nik": event.nik,
        "full_name": event.full_name,
        "birth_date": known_date(event.birth_date),
        "sex": event.sex,
        "occupation": event.occupation,
        "kecamatan": event.kecamatan,
        "desa": event.desa,
        "sector": event.sector,
        "decile": event.decile,
        "funder": event.funder.value,
        "channel": event.channel,
        "status": "pending",
        "reasons": [],
        "nominated_at": at,
        "updated_at": at,
        "submitted_by": event.submitted_by,
        "source_ref": event.source_ref,
        "corrections": 0,
    }


def _changes(event: DomainEvent, at: Any) -> dict[str, Any] | None:
    """The read-model columns an event about an existing nomination sets (None: not such an event)."""
    if isinstance(event, WorkerValidated):
        return {
            "status": "validated",
            "reasons": [],
            "poverty_source": event.poverty_source,
            "reference_version": event.reference_version,
            "decile": event.decile,
            # The instant allocation ranks the nomination by (nominate.NominationClock); a
            # re-validation or a correction decides again with the same one.
            "nominated_at": event.nominated_at,
            "updated_at": at,
        }
    if isinstance(event, WorkerRejected):
        return {
            "status": "rejected",
            "reasons": [r.model_dump() for r in event.reasons],
            "poverty_source": None,
            "reference_version": event.reference_version,
            "updated_at": at,
        }
    if isinstance(event, NominationWithdrawn):
        return {"status": "withdrawn", "updated_at": at}
    if isinstance(event, NominationCorrected):
        return {
            "worker_id": event.worker_id,
            "nik": event.nik,
            "full_name": event.full_name,
            "birth_date": known_date(event.birth_date),
            "sex": event.sex,
            "occupation": event.occupation,
            "kecamatan": event.kecamatan,
            "desa": event.desa,
            "sector": event.sector,
            "decile": event.decile,
            "status": "pending",
            "corrections": INCREMENT,
            "updated_at": at,
        }
    return None


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one registry event to the read models."""
    event = decode(envelope)
    at = envelope.occurred_at
    if isinstance(event, WorkerNominated):
        await conn.execute(insert(nominations).values(_nominated_row(event, at)).on_conflict_do_nothing())
    elif isinstance(event, PersonForgotten):
        scrubbed = update(nominations).where(nominations.c.worker_id == event.worker_id)
        await conn.execute(scrubbed.values(FORGOTTEN_COLUMNS))
    elif isinstance(event, ReferenceDataImported):
        current: dict[str, Any] = {
            "kind": event.kind,
            "version": event.version,
            "rows": event.rows,
            "imported_at": event.imported_at,
            "sequence": event.sequence,
            "sha256": event.sha256,
        }
        stmt = insert(reference_versions).values(current)
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=["kind"], set_={k: stmt.excluded[k] for k in current})
        )
    else:
        changes = _changes(event, at)
        if changes is not None:
            values = {k: nominations.c[k] + 1 if v is INCREMENT else v for k, v in changes.items()}
            nomination_id = event.nomination_id  # type: ignore[attr-defined]
            await conn.execute(
                update(nominations).where(nominations.c.nomination_id == nomination_id).values(**values)
            )


async def project_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Apply registry events in order, as `project` would one by one, in a few statements."""
    fresh: dict[str, dict[str, Any]] = {}  # rows this batch creates, with their later changes folded in
    followers: dict[str, list[Envelope]] = {}  # the events folded into each fresh row
    for envelope in envelopes:
        event = decode(envelope)
        nomination_id = getattr(event, "nomination_id", None)
        if isinstance(event, WorkerNominated) and nomination_id not in fresh:
            fresh[event.nomination_id] = _nominated_row(event, envelope.occurred_at)
            followers[event.nomination_id] = []
            continue
        changes = _changes(event, envelope.occurred_at)
        if nomination_id in fresh and changes is not None:
            row = fresh[nomination_id]
            for key, value in changes.items():
                row[key] = row[key] + 1 if value is INCREMENT else value
            followers[nomination_id].append(envelope)
        else:
            await project(conn, envelope)
    if not fresh:
        return
    inserted = await conn.execute(
        insert(nominations).on_conflict_do_nothing().returning(nominations.c.nomination_id),
        list(fresh.values()),
    )
    # A nomination already in the table (a replay) keeps it, as `project` would, and gets the
    # batch's later events one by one.
    existed = set(fresh) - {r.nomination_id for r in inserted}
    for nomination_id in sorted(existed):
        for envelope in followers[nomination_id]:
            await project(conn, envelope)


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


async def _seat(conn: AsyncConnection, event: DomainEvent) -> None:
    """Record what allocation or enrollment decided about a nomination (domain/one_payer.py).

    Allocation's decisions name the nomination; the rest name the worker and programme and move
    the validated nomination there on from the seats they can follow.
    """
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
        return
    values = {"seat": seat.value, "held_by": held_by}
    nomination_id = getattr(event, "nomination_id", None)
    where: ColumnElement[bool]
    if nomination_id is not None:
        where = nominations.c.nomination_id == nomination_id
        if isinstance(event, _SEATING):
            where &= nominations.c.seat.is_(None) | nominations.c.seat.not_in(sorted(_ENROLLMENT_SAID))
    else:
        follows: ColumnElement[bool] = nominations.c.seat.in_(sorted(_AFTER[type(event)]))
        if not isinstance(event, QuotaReleased):
            follows |= nominations.c.seat.is_(None)
        where = (
            (nominations.c.worker_id == getattr(event, "worker_id"))  # noqa: B009 (every one has it)
            & (nominations.c.programme_code == getattr(event, "programme_code"))  # noqa: B009
            & (nominations.c.status == "validated")
            & follows
        )
    await conn.execute(update(nominations).where(where).values(**values))


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


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply another service's event to the registry's copies (programmes, BPJS participants,
    what allocation and enrollment decided about each nomination)."""
    if envelope.event_type == NominationSubmitted.event_type:
        return  # decided by the inbound handler into events of its own; its inbox copy is sealed
    event = decode(envelope)
    if envelope.event_type in SEAT_EVENTS:
        await _seat(conn, event)
    if isinstance(event, ProgrammeDefined):
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
            stmt.on_conflict_do_update(
                index_elements=["programme_code"], set_={k: stmt.excluded[k] for k in row}
            )
        )
    elif isinstance(event, QuotaChanged):
        await _seats_changed(conn, event)
    elif isinstance(event, EnrolledAtBPJS):
        participant: dict[str, Any] = {
            "worker_id": event.worker_id,
            "kpj": event.kpj,
            "programme_code": event.programme_code,
            "coverage_end": event.coverage_end,
            "active": True,
        }
        stmt = insert(participants).values(participant)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["worker_id"], set_={k: stmt.excluded[k] for k in participant}
            )
        )


async def project_consumed_in(tx: StoreTransaction, envelope: Envelope) -> None:
    """`project_consumed` in a transaction of the registry's PostgreSQL store (the Reactor's)."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the registry's projection needs a PostgreSQL transaction, not {type(tx).__name__}")
    await project_consumed(tx.conn, envelope)
