"""Handling nominations: look up the facts, decide on the worker streams, answer each one.

Every way in ends here: `POST /nominations` (one), the list upload (batches of rows per
transaction), the inbound Kafka topic (in the consumer's transaction) and the CLI (through the
upload). One list is decided *in order* in one transaction, with the kit (libs/eventstore/kit.py):

1. the worker streams' heads are read first, then every fact the rules need, one query per kind
   for the whole list (lookups: P3KE, DTKS, earlier nominations and seats, BPJS participation);
2. the worker stream's decider (domain/worker.py) decides each nomination on those facts, in list
   order: a later nomination of the same NIK sees the earlier one (DUPLICATE_NOMINATION);
3. every WorkerNominated + WorkerValidated/WorkerRejected pair is appended in one statement and
   projected in the same transaction.

A concurrent change to one of the workers is a lost race (ConcurrencyError): the whole list is
decided again on fresh facts. Each transaction holds the reference-data lock shared, so an import
of P3KE/DTKS (exclusive) never interleaves with a decision.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.common import Funder, Reason
from libs.events.contracts.registry import Channel, WorkerNominated, WorkerRejected, WorkerValidated
from libs.events.envelope import utcnow
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.wording import tanggal
from services.registry.application.commands import NominateWorker
from services.registry.application.ports import Lookups, LookupsOf, ProgrammeRecord
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.decisions import Programme, evaluate, held_by, reason_of
from services.registry.domain.nik import normalize_nik
from services.registry.domain.nomination import ExistingNomination, ValidationPolicy
from services.registry.domain.reasons import Rejection
from services.registry.domain.worker import CORRECTABLE, Decide, WorkerCommand, stream_of, worker_decider

__all__ = ["stream_of"]  # where the worker stream's name has always been found

UPLOAD_BATCH = 500
WORKERS = worker_decider()


class ProgrammeRefused(LookupError):
    """The programme named cannot take nominations at all: nothing is recorded."""

    status = 409

    def __init__(self, programme_code: str, why: Answer) -> None:
        self.programme_code = programme_code
        self.answer = why
        self.code = why.code.value
        super().__init__(why.message)


class ProgrammeUnknown(ProgrammeRefused):
    """The nomination names a programme the registry has not heard of."""

    status = 404

    def __init__(self, programme_code: str) -> None:
        super().__init__(programme_code, answer(AnswerCode.PROGRAMME_UNKNOWN, programme_code=programme_code))


class ProgrammeEnded(ProgrammeRefused):
    """The programme's coverage period is over (by the business calendar): whoever is nominated
    now could never be covered by it."""

    def __init__(self, programme_code: str, coverage_end: date) -> None:
        ended = tanggal(coverage_end)
        why = answer(AnswerCode.PROGRAMME_ENDED, programme_code=programme_code, coverage_end=ended)
        super().__init__(programme_code, why)


class NominationClock:
    """Nomination instants, strictly increasing in this process: the time each nomination is
    decided, one microsecond after the previous one when the clock has not moved (a list decided
    in one go). Allocation ranks a desil by this instant (WorkerValidated.nominated_at), so rows
    and nominations posted back to back keep their order, and never tie."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self._now = now
        self._last: datetime | None = None

    def next(self) -> datetime:
        """The next nomination instant."""
        now = self._now()
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now


NOMINATION_CLOCK = NominationClock()  # one per process: every way in shares it


@dataclass
class NominationResult:
    """What the officer (or the regency system) is told about one nomination."""

    nomination_id: str | None
    worker_id: str
    status: str  # validated | rejected | invalid (not recorded: cannot be a nomination at all)
    reasons: list[Reason] = field(default_factory=list)
    reference_version: str | None = None
    notes: list[Reason] = field(default_factory=list)  # warnings with a validated nomination


@dataclass(frozen=True)
class NominationRequest:
    """One nomination to decide, with rejections found before the rules (e.g. repeated in an upload)."""

    command: NominateWorker
    extra_rejections: tuple[Rejection, ...] = ()
    # For a list joining several senders' messages (the inbound topic): who sent this one and
    # where it comes from; None takes the list's.
    submitted_by: str | None = None
    origin: Origin | None = None


def normalized(cmd: NominateWorker) -> NominateWorker:
    """The command with what officers and spreadsheets vary on made uniform: NIK spaces, case."""
    sex = cmd.sex.strip().upper()
    sector = cmd.sector.strip().lower()
    return cmd.model_copy(
        update={
            "nik": normalize_nik(cmd.nik),
            "sex": sex if sex in ("L", "P") else cmd.sex,
            "sector": sector if sector in ("sawit", "non_sawit") else cmd.sector,
        }
    )


def programme_of(record: ProgrammeRecord) -> Programme:
    """The programme's validation settings, from the registry's copy of ProgrammeDefined."""
    definition = ProgrammeDefined.model_validate(record.definition)
    policy = ValidationPolicy(
        coverage_start=record.coverage_start,
        age_min=definition.age_min,
        age_max=definition.age_max,
        allowed_deciles=frozenset(definition.allowed_deciles),
        occupations=frozenset(definition.occupations),
        nik_regency_must_match=definition.nik_regency_must_match,
        admit_dtks_only=definition.admit_dtks_only,
        jurisdiction=definition.jurisdiction,
        seated_cells=frozenset((q.regency_code, q.sector) for q in definition.quotas if q.seats > 0),
        village_cap=definition.village_cap,
    )
    return Programme(
        record.code,
        Funder(record.funder),
        policy,
        record.coverage_start,
        record.coverage_end,
        definition.name,
    )


async def load_programme(lookups: Lookups, code: str, today: date) -> Programme:
    """The programme `code`; ProgrammeUnknown, or ProgrammeEnded when its coverage ended before
    `today` (the business calendar's day)."""
    record = await lookups.programme(code)
    if record is None:
        raise ProgrammeUnknown(code)
    if record.coverage_end < today:
        raise ProgrammeEnded(code, record.coverage_end)
    return programme_of(record)


def stated(cmd: NominateWorker) -> dict[str, Any]:
    """What a nomination states about the worker (every field a correction may change, and the
    nominating regency), as the events spell it."""
    return {name: getattr(cmd, name) for name in (*CORRECTABLE, "regency_code")}


def nominated_event(
    cmd: NominateWorker, worker_id: str, programme: Programme, channel: Channel, by: str
) -> WorkerNominated | None:
    """The WorkerNominated of `cmd`, or None when it cannot be one (no usable NIK, sex, sector...)."""
    try:
        return WorkerNominated(
            worker_id=worker_id,
            nomination_id=str(uuid.uuid4()),
            programme_code=programme.code,
            **stated(cmd),
            funder=programme.funder,
            channel=channel,
            submitted_by=by,
            source_ref=cmd.source_ref,
        )
    except ValidationError:
        return None


def result_of(decided: WorkerValidated | WorkerRejected) -> NominationResult:
    """The answer for a recorded decision."""
    if isinstance(decided, WorkerValidated):
        return NominationResult(
            decided.nomination_id,
            decided.worker_id,
            "validated",
            [],
            decided.reference_version,
            list(decided.notes),
        )
    return NominationResult(
        decided.nomination_id, decided.worker_id, "rejected", list(decided.reasons), decided.reference_version
    )


@dataclass(frozen=True)
class Nominations:
    """Decides lists of nominations of one programme (the composition root binds its settings)."""

    pepper: str
    today: Callable[[], date]
    lookups: LookupsOf
    clock: NominationClock = NOMINATION_CLOCK

    async def decide_in(
        self,
        tx: StoreTransaction,
        requests: Sequence[NominationRequest],
        *,
        programme_code: str,
        channel: Channel,
        submitted_by: str,
        origin: Origin,
    ) -> list[NominationResult]:
        """Decide and record nominations of one programme, in order, in `tx`."""
        lookups = self.lookups(tx)
        await lookups.hold_reference_lock()
        programme = await load_programme(lookups, programme_code, self.today())
        commands = [normalized(r.command) for r in requests]
        worker_ids = [worker_id_for(c.nik, self.pepper) for c in commands]
        facts = await lookups.worker_facts(worker_ids, programme.policy.coverage_start, programme.code)
        reference = await lookups.reference_version()
        decides: list[Decide] = []
        origins: dict[str, Origin] = {}
        statements: list[WorkerNominated | None] = []
        for request, cmd, worker_id in zip(requests, commands, worker_ids, strict=True):
            nominated = nominated_event(
                cmd, worker_id, programme, channel, request.submitted_by or submitted_by
            )
            statements.append(nominated)
            if nominated is None:
                continue
            origins[nominated.nomination_id] = request.origin or origin
            decides.append(
                Decide(
                    nominated,
                    programme,
                    facts[worker_id],
                    reference,
                    self.clock.next(),
                    request.extra_rejections,
                )
            )

        def origin_of(command: WorkerCommand) -> Origin:
            return origins[command.statement.nomination_id] if isinstance(command, Decide) else origin

        decisions = await handle(tx, WORKERS, decides, origin=origin_of)
        outcomes = iter(d.events[-1] for d in decisions)
        # Each answer in list order; an invalid one is told every reason the rules find, seeing
        # the list's earlier decisions as the recorded ones did.
        validated: dict[str, list[ExistingNomination]] = defaultdict(list)
        results: list[NominationResult] = []
        for request, cmd, worker_id, nominated in zip(
            requests, commands, worker_ids, statements, strict=True
        ):
            if nominated is None:
                context = facts[worker_id].context(since=validated[worker_id])
                outcome = evaluate(cmd, programme, context, request.extra_rejections)
                reasons = [reason_of(r) for r in outcome.rejections]
                reasons = reasons or [reason_of(answer(AnswerCode.NOMINATION_INVALID))]
                results.append(NominationResult(None, worker_id, "invalid", reasons, reference))
                continue
            decided = next(outcomes)
            assert isinstance(decided, WorkerValidated | WorkerRejected)
            if isinstance(decided, WorkerValidated):
                validated[worker_id].append(held_by(decided.nomination_id, decided.regency_code, programme))
            results.append(result_of(decided))
        return results
