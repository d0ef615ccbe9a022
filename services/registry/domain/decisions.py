"""What a nomination decision works on and records: the programme's settings, the facts about a
worker, the rules' outcome as WorkerValidated or WorkerRejected (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from libs.events.contracts.common import Funder, Reason, WorkerIdentity
from libs.events.contracts.registry import (
    NominationCorrected,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.pii import mask_nik
from services.registry.domain.answers import Answer
from services.registry.domain.nomination import (
    ExistingNomination,
    NominationInput,
    ValidationContext,
    ValidationPolicy,
)
from services.registry.domain.reasons import Rejection
from services.registry.domain.rules import ValidationOutcome, validate_nomination

Fields = WorkerNominated | NominationCorrected


class NominationFields(Protocol):
    """What the rules read of a nomination (a command, WorkerNominated, NominationCorrected)."""

    @property
    def nik(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def birth_date(self) -> date | str: ...
    @property
    def sex(self) -> str: ...
    @property
    def occupation(self) -> str: ...
    @property
    def regency_code(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def desa(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def sector(self) -> str: ...
    @property
    def decile(self) -> int | None: ...


@dataclass(frozen=True)
class Programme:
    """A programme as the registry's copy of ProgrammeDefined describes it."""

    code: str
    funder: Funder
    policy: ValidationPolicy
    period_start: date
    period_end: date
    name: str = ""


@dataclass
class WorkerFacts:
    """What the read models know about one worker when a decision starts: `head` is the version
    of the worker's stream read before every other fact (a later change fails the append)."""

    head: int = 0
    p3ke_desil: int | None = None
    in_dtks: bool = False
    existing: list[ExistingNomination] = field(default_factory=list)
    active_kpj: str | None = None

    def context(
        self, excluding: str | None = None, since: Sequence[ExistingNomination] = ()
    ) -> ValidationContext:
        """The rules' context; `since`: nominations validated after the facts were read."""
        return ValidationContext(
            p3ke_desil=self.p3ke_desil,
            in_dtks=self.in_dtks,
            existing_nominations=[e for e in [*self.existing, *since] if e.nomination_id != excluding],
            active_bpjs_kpj=self.active_kpj,
        )


def funder_words(funder: str) -> str:
    """A funder as officers read it ("SILPA DBH SAWIT"), not as the contract spells it."""
    return funder.replace("_", " ")


def reason_of(r: Rejection | Answer) -> Reason:
    """A rule's rejection or an answer as the contract's Reason (code + Indonesian message)."""
    return Reason(code=str(r.code), message=r.message, details=dict(r.details))


def held_by(nomination_id: str, regency_code: str, programme: Programme) -> ExistingNomination:
    """A nomination just validated for `programme`, as a later decision sees it."""
    return ExistingNomination(
        nomination_id,
        regency_code,
        funder_words(programme.funder.value),
        programme.period_start,
        programme.period_end,
        programme.code,
        programme.name,
    )


def evaluate(
    fields: NominationFields,
    programme: Programme,
    context: ValidationContext,
    extra: Sequence[Rejection] = (),
) -> ValidationOutcome:
    """Run the domain rules on a nomination's fields."""
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


def outcome_event(
    nominated: Fields,
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
