"""Nominations published by regency systems on `lindung.nominations.inbound.v1`, and the replies.

Each NominationSubmitted is decided by the same handler as an HTTP nomination (in the consumer's
transaction) and answered on `lindung.nominations.replies.v1` with NominationAccepted or
NominationRejected, keyed by the request's `source_ref`. The reply is an event of the registry
(stream `inbound-<request event id>`, domain/replies.py), so it leaves through the outbox exactly
when the decision is committed, and a redelivered request is not answered twice.

Sending the same `source_ref` again (same regency system, same programme) is not a second
nomination: if the first was rejected, the new content corrects it (NominationCorrected and a new
decision); otherwise the earlier answer is repeated (`repeated: true`) and nothing changes.
A message the registry cannot read, or may not take from its sender, is answered by
application/refusals.py when the consumer parks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from libs.events import Envelope
from libs.events.contracts.registry import NominationAccepted, NominationRejected, NominationSubmitted
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from services.registry.application.changes import ChangeRefused, Changes, Correction, locked_state
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import (
    NominationRequest,
    NominationResult,
    Nominations,
    ProgrammeRefused,
    normalized,
)
from services.registry.application.ports import SenderKey
from services.registry.domain.answers import AnswerCode, answer
from services.registry.domain.decisions import reason_of
from services.registry.domain.replies import Reply, reply_decider, reply_stream
from services.registry.domain.worker import CORRECTABLE, NominationState

REPLIES = reply_decider()
Submitted = tuple[Envelope, NominationSubmitted]


def reply_for(
    request: Envelope, event: NominationSubmitted, result: NominationResult, *, repeated: bool = False
) -> NominationAccepted | NominationRejected:
    """The answer to a regency system's nomination."""
    common: dict[str, Any] = {
        "request_event_id": request.event_id,
        "source_ref": event.source_ref,
        "regency_system": request.producer,
        "programme_code": event.programme_code,
        "reference_version": result.reference_version,
        "repeated": repeated,
    }
    if result.status == "validated":
        assert result.nomination_id is not None
        return NominationAccepted(
            nomination_id=result.nomination_id, worker_id=result.worker_id, notes=result.notes, **common
        )
    return NominationRejected(
        nomination_id=result.nomination_id,
        worker_id=result.worker_id if result.nomination_id else None,
        status="rejected" if result.status == "rejected" else "invalid",
        reasons=result.reasons,
        **common,
    )


async def send_replies(tx: StoreTransaction, replies: Sequence[tuple[Envelope | None, Reply]]) -> None:
    """Record the replies (each once), caused by their requests."""
    origins = {reply.stream: Origin.of(request) if request else Origin.new() for request, reply in replies}
    await handle(tx, REPLIES, [reply for _, reply in replies], origin=lambda c: origins[c.stream])


def _as_result(state: NominationState) -> NominationResult:
    return NominationResult(
        state.nomination_id, state.worker_id, state.status, list(state.reasons), state.reference_version
    )


def _command(event: NominationSubmitted) -> NominateWorker | None:
    try:
        return normalized(NominateWorker.model_validate(event.model_dump()))
    except ValidationError:  # e.g. a programme code of spaces only: answered invalid
        return None


def _invalid(why: Any) -> NominationResult:
    return NominationResult(None, "", "invalid", [reason_of(why)])


@dataclass(frozen=True)
class Inbound:
    """Decides regency systems' nominations and answers each (the composition root builds it)."""

    nominations: Nominations
    changes: Changes

    async def decide_in(self, tx: StoreTransaction, items: Sequence[Submitted]) -> None:
        """Decide inbound nominations in order, each answered, in the consumer's transaction.

        A message sent for the first time joins the run of first-time messages before it for the
        same programme, and the run is decided as one list (one batch of the kit). Anything
        else — a source_ref sent before or earlier in this batch, a message that does not make a
        command — first closes the run, then goes alone.
        """
        lookups = self.nominations.lookups(tx)
        sent = await lookups.sent_before({(r.producer, e.source_ref, e.programme_code) for r, e in items})
        replies: list[tuple[Envelope | None, Reply]] = []
        run: list[tuple[Envelope, NominationSubmitted, NominateWorker]] = []
        for request, event in items:
            key: SenderKey = (request.producer, event.source_ref, event.programme_code)
            cmd = _command(event)
            if cmd is None or key in sent or (run and run[0][2].programme_code != cmd.programme_code):
                replies += await self._decide_run(tx, run)
                run = []
            if cmd is None:
                replies.append(self._reply(request, event, _invalid(answer(AnswerCode.NOMINATION_INVALID))))
            elif key in sent:
                replies.append(await self._again(tx, request, event, cmd))
            else:
                run.append((request, event, cmd))
            sent.add(key)
        replies += await self._decide_run(tx, run)
        await send_replies(tx, replies)

    @staticmethod
    def _reply(
        request: Envelope, event: NominationSubmitted, result: NominationResult, *, repeated: bool = False
    ) -> tuple[Envelope | None, Reply]:
        reply = reply_for(request, event, result, repeated=repeated)
        return request, Reply(reply_stream(request.event_id), reply)

    async def _decide_run(
        self, tx: StoreTransaction, run: Sequence[tuple[Envelope, NominationSubmitted, NominateWorker]]
    ) -> list[tuple[Envelope | None, Reply]]:
        """First-time nominations of one programme, decided as one list; a reply to each."""
        if not run:
            return []
        requests = [
            NominationRequest(cmd, submitted_by=request.producer, origin=Origin.of(request))
            for request, _, cmd in run
        ]
        try:
            results = await self.nominations.decide_in(
                tx,
                requests,
                programme_code=run[0][2].programme_code,
                channel="kafka",
                submitted_by=run[0][0].producer,
                origin=Origin.of(run[0][0]),
            )
        except ProgrammeRefused as exc:
            results = [_invalid(exc.answer) for _ in run]
        return [
            self._reply(request, event, result)
            for (request, event, _), result in zip(run, results, strict=True)
        ]

    async def _again(
        self, tx: StoreTransaction, request: Envelope, event: NominationSubmitted, cmd: NominateWorker
    ) -> tuple[Envelope | None, Reply]:
        """A source_ref sent before (or earlier in the batch): decided alone, as when it came."""
        lookups = self.nominations.lookups(tx)
        # The reference-data lock before any row lock, in the same order as every other decision.
        await lookups.hold_reference_lock()
        repeated = False
        try:
            earlier = await lookups.earlier(request.producer, event.source_ref, event.programme_code)
            if earlier is None:
                (result,) = await self.nominations.decide_in(
                    tx,
                    [NominationRequest(cmd)],
                    programme_code=cmd.programme_code,
                    channel="kafka",
                    submitted_by=request.producer,
                    origin=Origin.of(request),
                )
            else:
                result, repeated = await self._correct(tx, request, earlier, cmd)
        except ProgrammeRefused as exc:
            result = _invalid(exc.answer)
        return self._reply(request, event, result, repeated=repeated)

    async def _correct(
        self, tx: StoreTransaction, request: Envelope, nomination_id: str, cmd: NominateWorker
    ) -> tuple[NominationResult, bool]:
        """A source_ref sent again: correct it when it was rejected, else repeat the answer."""
        _, state = await locked_state(tx, self.nominations.lookups(tx), nomination_id)
        changes = {
            name: getattr(cmd, name)
            for name in CORRECTABLE
            if getattr(cmd, name) != getattr(state.source, name)
        }
        if state.status != "rejected" or not changes:
            return _as_result(state), True
        correction = Correction(
            changes,
            corrected_by=request.producer,
            note="dikirim ulang oleh sistem kabupaten",
            channel="kafka",
        )
        try:
            return await self.changes.correct_in(
                tx, nomination_id, correction, origin=Origin.of(request)
            ), False
        except ChangeRefused:
            return _as_result(state), True
