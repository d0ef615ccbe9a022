"""Handling nominations: look up the facts, run the rules, record the outcome as events.

Every way in ends here: `POST /nominations` (one), the list upload (batches of `UPLOAD_BATCH`
rows per transaction), the inbound Kafka topic (inside the consumer's transaction) and the CLI
(through the upload). One call decides a list of nominations *in order* inside one transaction:

1. the worker streams' heads are read first, then every fact the rules need, in one query per
   kind for the whole list (P3KE, DTKS, earlier nominations, BPJS participation);
2. each nomination is decided by the domain rules on those facts, in list order; the facts are
   updated in memory as it goes, so a later nomination of the same NIK in the same list sees the
   earlier one (DUPLICATE_NOMINATION) exactly as if each had its own transaction;
3. all WorkerNominated + WorkerValidated/WorkerRejected pairs are appended at once, each stream
   at the head read in step 1 as expected version (libs/eventstore/batch.py: the same rows as
   EventStore.append, in one statement), and projected in bulk.

A concurrent change to one of the workers fails the append (ConcurrencyError): the caller retries
the whole list with fresh facts. Each transaction also holds the reference-data lock in shared
mode, so an import of P3KE/DTKS (exclusive) never interleaves with a decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.common import Funder, Reason, WorkerIdentity
from libs.events.contracts.registry import (
    Channel,
    NominationCorrected,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.events.envelope import utcnow
from libs.eventstore.batch import StreamAppend, append_batch
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from libs.pii import mask_nik
from services.registry.adapters.projections import project_batch
from services.registry.adapters.tables import (
    nominations,
    participants,
    programmes,
    reference_dtks,
    reference_p3ke,
    reference_versions,
)
from services.registry.application.commands import NominateWorker
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.nik import normalize_nik
from services.registry.domain.nomination import (
    ExistingNomination,
    NominationInput,
    ValidationContext,
    ValidationPolicy,
)
from services.registry.domain.one_payer import holds_the_worker
from services.registry.domain.reasons import Rejection, format_tanggal
from services.registry.domain.rules import ValidationOutcome, validate_nomination

MAX_RACES = 20
UPLOAD_BATCH = 500
REFERENCE_LOCK = "registry.reference-data"


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
        ended = format_tanggal(coverage_end)
        why = answer(AnswerCode.PROGRAMME_ENDED, programme_code=programme_code, coverage_end=ended)
        super().__init__(programme_code, why)


class NominationClock:
    """Nomination instants, strictly increasing in this process: the time each nomination is
    decided, one microsecond after the previous one when the clock has not moved (a list decided
    in one go). Allocation ranks a desil by this instant (WorkerValidated.nominated_at), so rows
    and nominations posted back to back keep their order, and never tie."""

    def __init__(self) -> None:
        self._last: datetime | None = None

    def next(self) -> datetime:
        now = utcnow()
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now


NOMINATION_CLOCK = NominationClock()


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
    # the ids of its message; None takes the list's.
    submitted_by: str | None = None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Programme:
    code: str
    funder: Funder
    policy: ValidationPolicy
    period_start: date
    period_end: date
    name: str = ""


@dataclass
class WorkerFacts:
    """What the registry knows about one worker, as of the start of the decision."""

    head: int = 0
    p3ke_desil: int | None = None
    in_dtks: bool = False
    existing: list[ExistingNomination] = field(default_factory=list)
    active_kpj: str | None = None

    def context(self, excluding: str | None = None) -> ValidationContext:
        return ValidationContext(
            p3ke_desil=self.p3ke_desil,
            in_dtks=self.in_dtks,
            existing_nominations=[e for e in self.existing if e.nomination_id != excluding],
            active_bpjs_kpj=self.active_kpj,
        )


def funder_words(funder: str) -> str:
    """A funder as officers read it ("SILPA DBH SAWIT"), not as the contract spells it."""
    return funder.replace("_", " ")


def reason_of(r: Rejection | Answer) -> Reason:
    """A rule's rejection or an answer as the contract's Reason (code + Indonesian message)."""
    return Reason(code=str(r.code), message=r.message, details=dict(r.details))


def stream_of(worker_id: str) -> str:
    return f"worker-{worker_id}"


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


async def hold_reference_lock(conn: AsyncConnection, *, exclusive: bool = False) -> None:
    """Decisions hold the reference-data lock shared; an import holds it exclusively."""
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute(text(f"SELECT {fn}(hashtext(:k))"), {"k": REFERENCE_LOCK})


async def load_programme(conn: AsyncConnection, code: str, today: date) -> Programme:
    """The programme's validation settings, from the registry's copy of ProgrammeDefined.

    Raises ProgrammeUnknown, or ProgrammeEnded when its coverage ended before `today` (the
    business calendar's day, passed in from the entrypoint).
    """
    row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if row is None:
        raise ProgrammeUnknown(code)
    if row.coverage_end < today:
        raise ProgrammeEnded(code, row.coverage_end)
    definition = ProgrammeDefined.model_validate(row.definition)
    policy = ValidationPolicy(
        coverage_start=row.coverage_start,
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
    return Programme(code, Funder(row.funder), policy, row.coverage_start, row.coverage_end, definition.name)


async def current_reference_version(conn: AsyncConnection) -> str:
    """The reference data consulted now, e.g. "p3ke:p3ke-1a2b3c4d5e6f;dtks:none"."""
    versions = {r.kind: r.version for r in await conn.execute(select(reference_versions))}
    return f"p3ke:{versions.get('p3ke', 'none')};dtks:{versions.get('dtks', 'none')}"


async def load_facts(
    conn: AsyncConnection,
    store: EventStore,
    worker_ids: Collection[str],
    coverage_start: date,
    programme_code: str | None = None,
) -> dict[str, WorkerFacts]:
    """The facts about these workers, in one query per kind.

    Earlier nominations count only while they keep the worker (domain/one_payer.py: pending,
    awaiting allocation, or holding a seat; waiting only in `programme_code`, the programme the
    nominations are for).

    Heads are read first: any fact read afterwards is at least as new, so an append with the head
    as expected version fails if something about the worker changed after it was read.
    """
    ids = sorted(set(worker_ids))
    facts = {w: WorkerFacts() for w in ids}
    if not ids:
        return facts
    events = store.tables.events
    heads = await conn.execute(
        select(events.c.aggregate_id, func.max(events.c.aggregate_version))
        .where(events.c.aggregate_id.in_([stream_of(w) for w in ids]))
        .group_by(events.c.aggregate_id)
    )
    for stream, version in heads:
        facts[stream.removeprefix("worker-")].head = int(version)
    for row in await conn.execute(
        select(reference_p3ke.c.worker_id, reference_p3ke.c.decile).where(reference_p3ke.c.worker_id.in_(ids))
    ):
        facts[row.worker_id].p3ke_desil = row.decile
    for row in await conn.execute(
        select(reference_dtks.c.worker_id).where(reference_dtks.c.worker_id.in_(ids))
    ):
        facts[row.worker_id].in_dtks = True
    # Filtered on worker id alone (status in Python): during a bulk load the planner's statistics
    # lag behind and a status filter in SQL tempts it into scanning every pending row.
    existing = await conn.execute(
        select(
            nominations.c.worker_id,
            nominations.c.nomination_id,
            nominations.c.regency_code,
            nominations.c.funder,
            nominations.c.status,
            nominations.c.seat,
            nominations.c.programme_code,
            programmes.c.definition["name"].astext.label("programme_name"),
            programmes.c.coverage_start,
            programmes.c.coverage_end,
        )
        .join(programmes, programmes.c.programme_code == nominations.c.programme_code)
        .where(nominations.c.worker_id.in_(ids))
        .order_by(nominations.c.nominated_at, nominations.c.nomination_id)
    )
    for r in existing:
        if not holds_the_worker(r.status, r.seat, same_programme=r.programme_code == programme_code):
            continue
        facts[r.worker_id].existing.append(
            ExistingNomination(
                r.nomination_id,
                r.regency_code,
                funder_words(r.funder),
                r.coverage_start,
                r.coverage_end,
                r.programme_code,
                r.programme_name or r.programme_code,
            )
        )
    for row in await conn.execute(
        select(participants.c.worker_id, participants.c.kpj).where(
            participants.c.worker_id.in_(ids),
            participants.c.active.is_(True),
            participants.c.coverage_end >= coverage_start,
        )
    ):
        facts[row.worker_id].active_kpj = row.kpj
    return facts


def evaluate(
    fields: NominateWorker | NominationCorrected | WorkerNominated,
    programme: Programme,
    context: ValidationContext,
    extra: Sequence[Rejection] = (),
) -> ValidationOutcome:
    """Run the domain rules on a nomination's fields (pure)."""
    if isinstance(fields.birth_date, str):  # a forgotten person's: nothing is left to decide on
        raise ValueError("the person of this nomination is forgotten: there is nothing to decide on")
    candidate = NominationInput(
        nik=fields.nik,
        full_name=fields.full_name,
        birth_date=fields.birth_date,
        sex=fields.sex,
        occupation=fields.occupation,
        regency_code=fields.regency_code,
        kecamatan=fields.kecamatan,
        desa=fields.desa,
        address=fields.address,
        phone=fields.phone,
        sector=fields.sector,
        desil=fields.decile,
        funder=programme.funder.value,
        period_start=programme.period_start,
        period_end=programme.period_end,
    )
    outcome = validate_nomination(candidate, context, programme.policy)
    if extra:
        outcome = ValidationOutcome(
            tuple(extra) + outcome.rejections, outcome.poverty_source, outcome.parsed_nik
        )
    return outcome


def nominated_event(
    cmd: NominateWorker, worker_id: str, nomination_id: str, programme: Programme, channel: Channel, by: str
) -> WorkerNominated | None:
    """The WorkerNominated of `cmd`, or None when it cannot be one (no usable NIK, sex, sector...)."""
    try:
        return WorkerNominated(
            worker_id=worker_id,
            nomination_id=nomination_id,
            programme_code=programme.code,
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
            channel=channel,
            submitted_by=by,
            source_ref=cmd.source_ref,
        )
    except ValidationError:
        return None


def outcome_event(
    nominated: WorkerNominated | NominationCorrected,
    outcome: ValidationOutcome,
    context: ValidationContext,
    reference: str,
    nominated_at: datetime,
) -> WorkerValidated | WorkerRejected:
    """The decision event for a recorded nomination."""
    if outcome.rejections:
        return WorkerRejected(
            worker_id=nominated.worker_id,
            nomination_id=nominated.nomination_id,
            programme_code=nominated.programme_code,
            regency_code=nominated.regency_code,
            nik_masked=mask_nik(nominated.nik),
            reasons=[reason_of(r) for r in outcome.rejections],
            reference_version=reference,
        )
    return WorkerValidated(
        worker_id=nominated.worker_id,
        nomination_id=nominated.nomination_id,
        programme_code=nominated.programme_code,
        identity=WorkerIdentity(
            nik=nominated.nik,
            full_name=nominated.full_name,
            birth_date=str(nominated.birth_date),  # ISO date, or FORGOTTEN
            sex=nominated.sex,
        ),
        occupation=nominated.occupation,
        regency_code=nominated.regency_code,
        sector=nominated.sector,
        # The P3KE extract's desil, never the officer's: a worker admitted through DTKS alone has
        # none, and allocation ranks them after every P3KE desil (docs/allocation.md).
        decile=context.p3ke_desil,
        funder=nominated.funder,
        poverty_source=outcome.poverty_source.value if outcome.poverty_source else "NONE",
        reference_version=reference,
        nominated_at=nominated_at,
        desa_code=outcome.desa_code,
        notes=[reason_of(note) for note in outcome.notes],
    )


def result_of(decided: WorkerValidated | WorkerRejected) -> NominationResult:
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


def remember(facts: WorkerFacts, decided: WorkerValidated | WorkerRejected, programme: Programme) -> None:
    """Let later decisions of the same list see this one, as the read model will once committed."""
    if isinstance(decided, WorkerValidated):
        facts.existing.append(
            ExistingNomination(
                decided.nomination_id,
                decided.regency_code,
                funder_words(programme.funder.value),
                programme.period_start,
                programme.period_end,
                programme.code,
                programme.name,
            )
        )


async def nominate_many_in(
    conn: AsyncConnection,
    store: EventStore,
    requests: Sequence[NominationRequest],
    *,
    programme_code: str,
    channel: Channel,
    submitted_by: str,
    pepper: str,
    today: date,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> list[NominationResult]:
    """Decide and record nominations of one programme, in order, inside the caller's transaction
    (`today`: the business calendar's day, for the programme's end)."""
    await hold_reference_lock(conn)
    programme = await load_programme(conn, programme_code, today)
    commands = [normalized(r.command) for r in requests]
    worker_ids = [worker_id_for(c.nik, pepper) for c in commands]
    facts = await load_facts(conn, store, worker_ids, programme.policy.coverage_start, programme.code)
    reference = await current_reference_version(conn)
    correlation = correlation_id or uuid.uuid4()
    results: list[NominationResult] = []
    appends: list[StreamAppend] = []
    for request, cmd, worker_id in zip(requests, commands, worker_ids, strict=True):
        known = facts[worker_id]
        context = known.context()
        outcome = evaluate(cmd, programme, context, request.extra_rejections)
        sender = request.submitted_by or submitted_by
        nominated = nominated_event(cmd, worker_id, str(uuid.uuid4()), programme, channel, sender)
        if nominated is None:
            # Not even a well-formed nomination: answer with every reason, record nothing.
            reasons = [reason_of(r) for r in outcome.rejections] or [
                reason_of(answer(AnswerCode.NOMINATION_INVALID))
            ]
            results.append(NominationResult(None, worker_id, "invalid", reasons, reference))
            continue
        decided = outcome_event(nominated, outcome, context, reference, NOMINATION_CLOCK.next())
        appends.append(
            StreamAppend(
                stream_of(worker_id),
                [nominated, decided],
                known.head,
                correlation_id=request.correlation_id,
                causation_id=request.causation_id,
            )
        )
        known.head += 2
        remember(known, decided, programme)
        results.append(result_of(decided))
    # Every decision of the list in a few statements; a concurrent change to any of these
    # workers fails the whole list (ConcurrencyError), and the caller decides it again.
    await append_batch(
        conn, store, appends, project=project_batch, correlation_id=correlation, causation_id=causation_id
    )
    return results


async def in_transaction_with_retries(engine: AsyncEngine, work: Any) -> Any:
    """Run `work(conn)` in its own transaction, again (fresh facts) when a concurrent change won."""
    for _ in range(MAX_RACES):
        try:
            async with engine.begin() as conn:
                return await work(conn)
        except ConcurrencyError:
            continue  # another decision about one of these workers landed first: decide again
    raise RuntimeError("too many concurrent changes to the same workers")


async def nominate_many(
    engine: AsyncEngine, store: EventStore, requests: Sequence[NominationRequest], **kwargs: Any
) -> list[NominationResult]:
    """Decide and record a list of nominations in one transaction, retried on a lost race."""

    async def work(conn: AsyncConnection) -> list[NominationResult]:
        return await nominate_many_in(conn, store, requests, **kwargs)

    results: list[NominationResult] = await in_transaction_with_retries(engine, work)
    return results


async def nominate(
    engine: AsyncEngine, store: EventStore, cmd: NominateWorker, **kwargs: Any
) -> NominationResult:
    """Decide and record one nomination in its own transaction."""
    results = await nominate_many(
        engine, store, [NominationRequest(cmd)], programme_code=cmd.programme_code, **kwargs
    )
    return results[0]
