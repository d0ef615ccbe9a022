"""An officer's changes to a recorded nomination: corrections of a rejected one, and withdrawals.

Both start by locking the nomination's read-model row (SELECT ... FOR UPDATE), so two changes to
one nomination never interleave, even when a corrected NIK moves it to another worker's stream;
the append's expected version guards against everything else that touches the worker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.contracts.registry import Channel, NominationCorrected, NominationWithdrawn
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from services.registry.adapters.tables import nominations
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import (
    NominationResult,
    WorkerFacts,
    current_reference_version,
    evaluate,
    hold_reference_lock,
    in_transaction_with_retries,
    load_facts,
    load_programme,
    normalized,
    outcome_event,
    reason_of,
    result_of,
    stream_of,
)
from services.registry.application.streams import CORRECTABLE, NominationState, fold_nomination
from services.registry.domain.answers import Answer, AnswerCode, answer

WithdrawalReason = Literal["died", "moved", "declined", "other"]


class ChangeRefused(ValueError):
    """The change cannot be made; `answer` says why, `status` is the HTTP status that fits."""

    def __init__(self, answer: Answer, status: int) -> None:
        super().__init__(answer.message)
        self.answer = answer
        self.status = status


@dataclass(frozen=True)
class Correction:
    """Corrected fields (by name, as in the nomination command) and who corrected them."""

    changes: dict[str, Any]
    corrected_by: str
    note: str = ""
    channel: Channel = "http"


async def locked_state(
    conn: AsyncConnection, store: EventStore, nomination_id: str
) -> tuple[Any, NominationState, int]:
    """The nomination's read-model row (locked), its folded state and its stream's version."""
    row = (
        await conn.execute(
            select(nominations).where(nominations.c.nomination_id == nomination_id).with_for_update()
        )
    ).first()
    if row is None:
        raise ChangeRefused(answer(AnswerCode.NOMINATION_NOT_FOUND), 404)
    envelopes = await store.load(conn, stream_of(row.worker_id))
    state = fold_nomination(envelopes, nomination_id)
    if state is None:  # the read model names a stream without it: never expected
        raise RuntimeError(f"nomination {nomination_id} missing from its worker stream")
    return row, state, envelopes[-1].aggregate_version


def corrected_command(state: NominationState, changes: dict[str, Any]) -> NominateWorker | list[Answer]:
    """The nomination's fields with `changes` applied, as a command (or why that is impossible)."""
    current = {name: getattr(state.source, name) for name in CORRECTABLE}
    unknown = sorted(set(changes) - set(CORRECTABLE))
    if unknown:
        raise ValueError(f"not correctable: {unknown}")
    try:
        cmd = NominateWorker(
            programme_code=state.source.programme_code,
            regency_code=state.source.regency_code,
            source_ref=state.source_ref,
            **{**current, **changes},
        )
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        return [answer(AnswerCode.NOMINATION_INVALID, fields=fields)]
    return normalized(cmd)


async def correct_in(
    conn: AsyncConnection,
    store: EventStore,
    nomination_id: str,
    correction: Correction,
    *,
    pepper: str,
    today: date,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> NominationResult:
    """Correct a rejected nomination and decide it again, inside the caller's transaction.

    Records NominationCorrected (the whole corrected nomination, and which fields changed) then
    the new WorkerValidated or WorkerRejected, on the stream of the worker the corrected NIK names.
    """
    await hold_reference_lock(conn)
    row, state, version = await locked_state(conn, store, nomination_id)
    if state.status != "rejected":
        raise ChangeRefused(answer(AnswerCode.NOMINATION_NOT_CORRECTABLE, status=state.status), 409)
    cmd = corrected_command(state, correction.changes)
    if isinstance(cmd, list):
        return NominationResult(None, state.worker_id, "invalid", [reason_of(a) for a in cmd])
    changed = [name for name in CORRECTABLE if getattr(cmd, name) != getattr(state.source, name)]
    if not changed:
        raise ChangeRefused(answer(AnswerCode.CORRECTION_EMPTY), 422)
    programme = await load_programme(conn, cmd.programme_code, today)
    worker_id = worker_id_for(cmd.nik, pepper)
    if worker_id == state.worker_id:
        facts = (await load_facts(conn, store, [worker_id], programme.policy.coverage_start, programme.code))[
            worker_id
        ]
        facts.head = version
    else:
        facts = (
            await load_facts(conn, store, [worker_id], programme.policy.coverage_start, programme.code)
        ).get(worker_id, WorkerFacts())
    context = facts.context(excluding=nomination_id)
    outcome = evaluate(cmd, programme, context)
    try:
        corrected = NominationCorrected(
            worker_id=worker_id,
            nomination_id=nomination_id,
            programme_code=programme.code,
            previous_worker_id=None if worker_id == state.worker_id else state.worker_id,
            nik=cmd.nik,
            full_name=cmd.full_name,
            birth_date=cmd.birth_date,
            sex=cmd.sex,
            occupation=cmd.occupation,
            regency_code=cmd.regency_code,
            kecamatan=cmd.kecamatan,
            desa=cmd.desa,
            address=cmd.address,
            phone=cmd.phone,
            sector=cmd.sector,
            decile=cmd.decile,
            funder=programme.funder,
            channel=correction.channel,
            corrected_by=correction.corrected_by,
            corrected_fields=changed,
            note=correction.note,
        )
    except ValidationError:
        reasons = [reason_of(r) for r in outcome.rejections] or [
            reason_of(answer(AnswerCode.NOMINATION_INVALID))
        ]
        return NominationResult(None, worker_id, "invalid", reasons)
    reference = await current_reference_version(conn)
    decided = outcome_event(corrected, outcome, context, reference, row.nominated_at)
    await store.append(
        conn,
        stream_of(worker_id),
        [corrected, decided],
        expected_version=facts.head,
        correlation_id=correlation_id or uuid.uuid4(),
        causation_id=causation_id,
    )
    return result_of(decided)


async def correct(
    engine: AsyncEngine, store: EventStore, nomination_id: str, correction: Correction, **kwargs: Any
) -> NominationResult:
    """Correct a rejected nomination in its own transaction (retried on a lost race)."""

    async def work(conn: AsyncConnection) -> NominationResult:
        return await correct_in(conn, store, nomination_id, correction, **kwargs)

    result: NominationResult = await in_transaction_with_retries(engine, work)
    return result


async def withdraw(
    engine: AsyncEngine,
    store: EventStore,
    nomination_id: str,
    reason: WithdrawalReason,
    note: str,
    *,
    withdrawn_by: str,
) -> NominationState:
    """Withdraw a nomination (NominationWithdrawn: allocation releases its seat, if it had one);
    `withdrawn_by` is who did, for the history."""

    async def work(conn: AsyncConnection) -> NominationState:
        _, state, version = await locked_state(conn, store, nomination_id)
        if state.status == "withdrawn":
            raise ChangeRefused(answer(AnswerCode.NOMINATION_ALREADY_WITHDRAWN), 409)
        event = NominationWithdrawn(
            worker_id=state.worker_id,
            nomination_id=nomination_id,
            programme_code=state.source.programme_code,
            regency_code=state.source.regency_code,
            reason=reason,
            note=note,
            withdrawn_by=withdrawn_by,
        )
        await store.append(
            conn, stream_of(state.worker_id), [event], expected_version=version, correlation_id=uuid.uuid4()
        )
        state.status = "withdrawn"
        return state

    result: NominationState = await in_transaction_with_retries(engine, work)
    return result
