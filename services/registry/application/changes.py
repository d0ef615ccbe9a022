"""An officer's changes to a recorded nomination: corrections of a rejected one, and withdrawals.

Both start by locking the nomination's read-model row, so two changes to one nomination never
interleave, even when a corrected NIK moves it to another worker's stream; the worker stream's
decider (domain/worker.py) guards against everything else that touches the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from libs.events.contracts.registry import Channel, NominationCorrected, WorkerRejected, WorkerValidated
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import (
    WORKERS,
    NominationResult,
    load_programme,
    normalized,
    result_of,
    stated,
)
from services.registry.application.ports import Lookups, LookupsOf, NominationRecord
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.decisions import WorkerFacts, evaluate, reason_of
from services.registry.domain.worker import (
    CORRECTABLE,
    ChangeRefused,
    Decide,
    NominationState,
    Withdraw,
    WithdrawalReason,
    fold_nomination,
    stream_of,
)

__all__ = ["CORRECTABLE", "ChangeRefused", "Changes", "Correction", "WithdrawalReason"]


@dataclass(frozen=True)
class Correction:
    """Corrected fields (by name, as in the nomination command) and who corrected them."""

    changes: dict[str, Any]
    corrected_by: str
    note: str = ""
    channel: Channel = "http"


async def locked_state(
    tx: StoreTransaction, lookups: Lookups, nomination_id: str
) -> tuple[NominationRecord, NominationState]:
    """The nomination's read-model row (locked) and its state, folded from its worker's stream."""
    row = await lookups.lock_nomination(nomination_id)
    if row is None:
        raise ChangeRefused(answer(AnswerCode.NOMINATION_NOT_FOUND), 404)
    stream = stream_of(row.worker_id)
    state = fold_nomination((await tx.load([stream]))[stream].recorded, nomination_id)
    if state is None:  # the read model names a stream without it: never expected
        raise RuntimeError(f"nomination {nomination_id} missing from its worker stream")
    return row, state


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


@dataclass(frozen=True)
class Changes:
    """Corrections and withdrawals (the composition root binds its settings)."""

    pepper: str
    today: Callable[[], date]
    lookups: LookupsOf

    async def correct_in(
        self, tx: StoreTransaction, nomination_id: str, correction: Correction, *, origin: Origin
    ) -> NominationResult:
        """Correct a rejected nomination and decide it again, in `tx`.

        Records NominationCorrected (the whole corrected nomination, and which fields changed) then
        the new WorkerValidated or WorkerRejected, on the stream of the worker the corrected NIK names.
        """
        lookups = self.lookups(tx)
        await lookups.hold_reference_lock()
        row, state = await locked_state(tx, lookups, nomination_id)
        if state.status != "rejected":
            raise ChangeRefused(answer(AnswerCode.NOMINATION_NOT_CORRECTABLE, status=state.status), 409)
        cmd = corrected_command(state, correction.changes)
        if isinstance(cmd, list):
            return NominationResult(None, state.worker_id, "invalid", [reason_of(a) for a in cmd])
        changed = [name for name in CORRECTABLE if getattr(cmd, name) != getattr(state.source, name)]
        if not changed:
            raise ChangeRefused(answer(AnswerCode.CORRECTION_EMPTY), 422)
        programme = await load_programme(lookups, cmd.programme_code, self.today())
        worker_id = worker_id_for(cmd.nik, self.pepper)
        found = await lookups.worker_facts([worker_id], programme.policy.coverage_start, programme.code)
        facts = found.get(worker_id, WorkerFacts())
        try:
            corrected = NominationCorrected(
                worker_id=worker_id,
                nomination_id=nomination_id,
                programme_code=programme.code,
                previous_worker_id=None if worker_id == state.worker_id else state.worker_id,
                **stated(cmd),
                funder=programme.funder,
                channel=correction.channel,
                corrected_by=correction.corrected_by,
                corrected_fields=changed,
                note=correction.note,
            )
        except ValidationError:
            outcome = evaluate(cmd, programme, facts.context(excluding=nomination_id))
            reasons = [reason_of(r) for r in outcome.rejections]
            return NominationResult(
                None, worker_id, "invalid", reasons or [reason_of(answer(AnswerCode.NOMINATION_INVALID))]
            )
        reference = await lookups.reference_version()
        command = Decide(corrected, programme, facts, reference, row.nominated_at)
        (decision,) = await handle(tx, WORKERS, [command], origin=origin)
        decided = decision.events[-1]
        assert isinstance(decided, WorkerValidated | WorkerRejected)
        return result_of(decided)

    async def withdraw_in(
        self,
        tx: StoreTransaction,
        nomination_id: str,
        reason: WithdrawalReason,
        note: str,
        *,
        withdrawn_by: str,
        origin: Origin,
    ) -> NominationState:
        """Withdraw a nomination (NominationWithdrawn: allocation releases its seat, if it had one);
        `withdrawn_by` is who did, for the history."""
        _, state = await locked_state(tx, self.lookups(tx), nomination_id)
        command = Withdraw(state.worker_id, nomination_id, reason, note, withdrawn_by)
        await handle(tx, WORKERS, [command], origin=origin)
        return replace(state, status="withdrawn")
