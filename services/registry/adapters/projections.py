"""Projection of the registry's own events into its read models (same transaction as the append).

`project` applies one event; `project_batch` applies a list with the same result in fewer
statements (the upload's batched path): rows created by the batch are built in memory, their
later events folded into them, and inserted at once. Both derive every change from `_changes`,
so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert

from libs.events import Envelope, decode
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    PersonForgotten,
    ReferenceDataImported,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.pii import FORGOTTEN
from libs.sql_arrays import insert_rows
from services.registry.adapters.tables import nominations, reference_versions

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
    inserted: set[str] = set()
    for rows in _by_columns(fresh.values()):
        inserted.update((await conn.execute(_insert_new(rows))).scalars())
    # A nomination already in the table (a replay) keeps it, as `project` would, and gets the
    # batch's later events one by one.
    existed = set(fresh) - inserted
    for nomination_id in sorted(existed):
        for envelope in followers[nomination_id]:
            await project(conn, envelope)


def _by_columns(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """`rows` grouped by the columns they set (a row decided in the batch sets more), so a column
    a row does not set keeps the table's default, as an INSERT of that row alone would."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _insert_new(rows: Sequence[dict[str, Any]]) -> ReturningInsert[Any]:
    """One INSERT of new nominations from column arrays, returning the ids inserted: its text is
    the same whatever the number of rows (an executemany's varies with it, and the driver keeps a
    large prepared statement for each)."""
    return insert_rows(nominations, rows).on_conflict_do_nothing().returning(nominations.c.nomination_id)
