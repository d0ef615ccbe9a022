"""Handling a nomination: look up the facts, run the rules, record the outcome as events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.contracts.common import Funder, Reason, WorkerIdentity
from libs.events.contracts.registry import Channel, WorkerNominated, WorkerRejected, WorkerValidated
from libs.events.envelope import utcnow
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from libs.pii import mask_nik
from services.registry.adapters.tables import (
    nominations,
    participants,
    programmes,
    reference_dtks,
    reference_p3ke,
    reference_versions,
)
from services.registry.application.commands import NominateWorker
from services.registry.domain.nomination import (
    ExistingNomination,
    NominationInput,
    ValidationContext,
    ValidationPolicy,
)
from services.registry.domain.reasons import Rejection
from services.registry.domain.rules import ValidationOutcome, validate_nomination

MAX_RACES = 20


class ProgrammeUnknown(LookupError):
    """The nomination names a programme the registry has not heard of."""

    code = "PROGRAMME_UNKNOWN"

    def __init__(self, programme_code: str) -> None:
        self.programme_code = programme_code
        super().__init__(f"Program {programme_code} tidak dikenal atau belum ditetapkan.")


@dataclass
class NominationResult:
    """What the officer (or the regency system) is told about one nomination."""

    nomination_id: str | None
    worker_id: str
    status: str  # validated | rejected | invalid (not recorded: cannot be a nomination at all)
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class Programme:
    code: str
    funder: Funder
    policy: ValidationPolicy
    period_start: date
    period_end: date


def _reason(r: Rejection) -> Reason:
    return Reason(code=str(r.code), message=r.message, details=dict(r.details))


async def load_programme(conn: AsyncConnection, code: str, nik_regency_must_match: bool) -> Programme:
    """The programme's validation settings, from the registry's copy of ProgrammeDefined."""
    row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if row is None:
        raise ProgrammeUnknown(code)
    d = row.definition
    policy = ValidationPolicy(
        coverage_start=row.coverage_start,
        age_min=int(d["age_min"]),
        age_max=int(d["age_max"]),
        allowed_deciles=frozenset(int(x) for x in d["allowed_deciles"]),
        occupations=frozenset(d["occupations"]),
        nik_regency_must_match=nik_regency_must_match,
    )
    return Programme(code, Funder(row.funder), policy, row.coverage_start, row.coverage_end)


async def load_context(
    conn: AsyncConnection, worker_id: str, policy: ValidationPolicy
) -> tuple[ValidationContext, str]:
    """The facts about this worker the rules need, and the reference-data version consulted."""
    p3ke = (await conn.execute(select(reference_p3ke).where(reference_p3ke.c.worker_id == worker_id))).first()
    dtks = (await conn.execute(select(reference_dtks).where(reference_dtks.c.worker_id == worker_id))).first()
    versions = {r.kind: r.version for r in await conn.execute(select(reference_versions))}
    existing_rows = await conn.execute(
        select(nominations, programmes.c.coverage_start, programmes.c.coverage_end)
        .join(programmes, programmes.c.programme_code == nominations.c.programme_code)
        .where(nominations.c.worker_id == worker_id, nominations.c.status.in_(("pending", "validated")))
        .order_by(nominations.c.nominated_at)
    )
    existing = [
        ExistingNomination(r.nomination_id, r.regency_code, r.funder, r.coverage_start, r.coverage_end)
        for r in existing_rows
    ]
    participant = (
        await conn.execute(
            select(participants).where(
                participants.c.worker_id == worker_id,
                participants.c.active.is_(True),
                participants.c.coverage_end >= policy.coverage_start,
            )
        )
    ).first()
    context = ValidationContext(
        p3ke_desil=p3ke.decile if p3ke else None,
        in_dtks=dtks is not None,
        existing_nominations=existing,
        active_bpjs_kpj=participant.kpj if participant else None,
    )
    reference = f"p3ke:{versions.get('p3ke', 'none')};dtks:{versions.get('dtks', 'none')}"
    return context, reference


def _nominated_event(
    cmd: NominateWorker, worker_id: str, nomination_id: str, programme: Programme, channel: Channel, by: str
) -> WorkerNominated | None:
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


def _outcome_event(
    nominated: WorkerNominated, outcome: ValidationOutcome, context: ValidationContext, reference: str
) -> WorkerValidated | WorkerRejected:
    if outcome.rejections:
        return WorkerRejected(
            worker_id=nominated.worker_id,
            nomination_id=nominated.nomination_id,
            programme_code=nominated.programme_code,
            regency_code=nominated.regency_code,
            nik_masked=mask_nik(nominated.nik),
            reasons=[_reason(r) for r in outcome.rejections],
        )
    return WorkerValidated(
        worker_id=nominated.worker_id,
        nomination_id=nominated.nomination_id,
        programme_code=nominated.programme_code,
        identity=WorkerIdentity(
            nik=nominated.nik,
            full_name=nominated.full_name,
            birth_date=nominated.birth_date.isoformat(),
            sex=nominated.sex,
        ),
        occupation=nominated.occupation,
        regency_code=nominated.regency_code,
        sector=nominated.sector,
        decile=context.p3ke_desil if context.p3ke_desil is not None else nominated.decile,
        funder=nominated.funder,
        poverty_source=outcome.poverty_source.value if outcome.poverty_source else "NONE",
        reference_version=reference,
        nominated_at=utcnow(),
    )


async def nominate_in(
    conn: AsyncConnection,
    store: EventStore,
    cmd: NominateWorker,
    *,
    channel: Channel,
    submitted_by: str,
    pepper: str,
    nik_regency_must_match: bool,
    correlation_id: uuid.UUID | None = None,
    extra_rejections: list[Rejection] | None = None,
) -> NominationResult:
    """Decide and record one nomination inside the caller's transaction."""
    programme = await load_programme(conn, cmd.programme_code, nik_regency_must_match)
    worker_id = worker_id_for(cmd.nik, pepper)
    context, reference = await load_context(conn, worker_id, programme.policy)
    candidate = NominationInput(
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
        desil=cmd.decile,
        funder=programme.funder.value,
        period_start=programme.period_start,
        period_end=programme.period_end,
    )
    outcome = validate_nomination(candidate, context, programme.policy)
    if extra_rejections:
        outcome = ValidationOutcome(
            tuple(extra_rejections) + outcome.rejections, outcome.poverty_source, outcome.parsed_nik
        )
    nomination_id = str(uuid.uuid4())
    nominated = _nominated_event(cmd, worker_id, nomination_id, programme, channel, submitted_by)
    if nominated is None:
        # Not even a well-formed nomination (no usable NIK, sex or sector): answer, record nothing.
        return NominationResult(None, worker_id, "invalid", [_reason(r) for r in outcome.rejections])
    decided = _outcome_event(nominated, outcome, context, reference)
    version, _ = await store.head(conn, f"worker-{worker_id}")
    await store.append(
        conn,
        f"worker-{worker_id}",
        [nominated, decided],
        expected_version=version,
        correlation_id=correlation_id or uuid.uuid4(),
    )
    status = "validated" if isinstance(decided, WorkerValidated) else "rejected"
    reasons = decided.reasons if isinstance(decided, WorkerRejected) else []
    return NominationResult(nomination_id, worker_id, status, list(reasons))


async def nominate(
    engine: AsyncEngine, store: EventStore, cmd: NominateWorker, **kwargs: Any
) -> NominationResult:
    """Decide and record one nomination in its own transaction, retrying lost races on the worker."""
    for _ in range(MAX_RACES):
        try:
            async with engine.begin() as conn:
                return await nominate_in(conn, store, cmd, **kwargs)
        except ConcurrencyError:
            continue  # another nomination of the same NIK landed first: decide again, it may be a duplicate
    raise RuntimeError("too many concurrent nominations of the same worker")
