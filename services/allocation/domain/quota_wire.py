"""A programme's stream on the wire: its contracts (libs/events) to quota decisions and back.

`to_domain` reads a stored allocation event as the quota decision it stands for; `to_wire` writes
decisions taken on a state as the contracts every other service reads. Ranks travel as desil
(`rank_desil`) and nomination order (`nomination_seq`, microseconds since 1970 UTC).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from libs.desil import rank_desil
from libs.events.contracts import allocation as wire
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Sex, WorkerIdentity
from services.allocation.domain.programme_facts import ProgrammeFacts
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    DecreeFixed,
    QuotaEvent,
    QuotasOpened,
    Release,
    ReleaseReason,
    SeatsChanged,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.quota_state import QuotaState
from services.allocation.domain.sector import QuotaCell, Sector

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stream_of(programme_code: str) -> str:
    """The event stream of a programme (its definition and every quota decision)."""
    return f"programme-{programme_code}"


def nomination_seq(nominated_at: datetime) -> int:
    """Nomination order: whole microseconds since 1970-01-01 UTC (a naive time is read as UTC)."""
    if nominated_at.tzinfo is None:
        nominated_at = nominated_at.replace(tzinfo=UTC)
    return (nominated_at - _EPOCH) // timedelta(microseconds=1)


def nominated_at(seq: int | None) -> datetime:
    """The nomination instant of `nomination_seq` (the epoch when unknown: ranks first)."""
    return _EPOCH + timedelta(microseconds=seq or 0)


def to_domain(event: DomainEvent) -> QuotaEvent | None:
    """The quota decision a stored allocation event stands for (None: not a quota decision)."""
    if isinstance(event, wire.ProgrammeDefined):
        return QuotasOpened(
            programme_code=event.programme_code,
            seats=tuple((QuotaCell(c.regency_code, Sector(c.sector)), c.seats) for c in event.quotas),
            budget_cap=event.budget_cap,
            cost_per_worker=(event.premium_jkk + event.premium_jkm) * event.months,
            requires_decree=event.requires_decree,
            village_cap=event.village_cap,
        )
    if isinstance(event, wire.QuotaAssigned):
        ranked = event.nomination_seq is not None
        return Assign(
            event.worker_id,
            event.regency_code,
            Sector(event.sector),
            promoted=event.promoted,
            desil=rank_desil(event.decile) if ranked else None,
            nomination_seq=event.nomination_seq,
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaWaitlisted):
        return Waitlist(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile,
            nomination_seq=event.nomination_seq,
            decree_round=event.decree_round,
            position=event.position,
            reason=WaitlistReason(event.reason),
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaReleased):
        return Release(event.worker_id, ReleaseReason(event.reason), event.held_by)
    if isinstance(event, wire.QuotaUnseated):
        return Unseat(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile,
            nomination_seq=event.nomination_seq,
            decree_round=event.decree_round,
            position=event.position,
            reason=WaitlistReason(event.reason),
            by_worker_id=event.by_worker_id,
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaDeclined):
        return Decline(event.worker_id, event.regency_code, Sector(event.sector), event.held_by)
    if isinstance(event, wire.QuotaChanged):
        return SeatsChanged(event.regency_code, Sector(event.sector), event.seats, event.over_assigned)
    if isinstance(event, wire.BudgetChanged):
        return BudgetChanged(event.budget_cap, event.over_committed)
    if isinstance(event, wire.DecreeIssued):
        return DecreeFixed(event.decree_number)
    return None


@dataclass(frozen=True, slots=True, init=False, repr=False)
class WorkerFacts:
    """What the wire events say about a worker besides the decision.

    A programme's state keeps one for each worker it decided on (tens of thousands), so it is
    kept small: the identity as one string of its four fields rather than a model (a model with
    its dict and field set costs several times its strings), regency and sector codes interned (a
    few dozen values shared by every worker). `identity` builds the model again when an event
    needs it.
    """

    nomination_id: str
    regency_code: str
    sector: str
    decile: int | None
    _identity: str | None  # NIK, birth date, sex (one letter) and full name, in that order
    _nik_len: int
    _born_len: int

    def __init__(
        self,
        nomination_id: str,
        regency_code: str,
        sector: str,
        decile: int | None,
        identity: WorkerIdentity | None,
    ) -> None:
        init = object.__setattr__
        init(self, "nomination_id", nomination_id)
        init(self, "regency_code", sys.intern(regency_code))
        init(self, "sector", sys.intern(sector))
        init(self, "decile", decile)
        if identity is None:
            init(self, "_identity", None)
            init(self, "_nik_len", 0)
            init(self, "_born_len", 0)
        else:
            packed = f"{identity.nik}{identity.birth_date}{identity.sex}{identity.full_name}"
            init(self, "_identity", packed)
            init(self, "_nik_len", len(identity.nik))
            init(self, "_born_len", len(identity.birth_date))

    @property
    def identity(self) -> WorkerIdentity | None:
        """The worker's identity as recorded (None: no event recorded it)."""
        packed = self._identity
        if packed is None:
            return None
        born = self._nik_len
        sex = born + self._born_len
        # Validated when it was recorded: built again as it was, without validating twice.
        return WorkerIdentity.model_construct(
            nik=packed[:born],
            birth_date=packed[born:sex],
            sex=cast(Sex, packed[sex]),
            full_name=packed[sex + 1 :],
        )

    def __repr__(self) -> str:
        return (
            f"WorkerFacts(nomination_id={self.nomination_id!r}, regency_code={self.regency_code!r}, "
            f"sector={self.sector!r}, decile={self.decile!r}, identity={self.identity!r})"
        )


def worker_facts_of(event: DomainEvent, known: WorkerFacts | None) -> WorkerFacts | None:
    """A worker's facts after `event` of their programme's stream (None: the event says nothing
    new about them), as the assignments read model keeps them: a seat or a waitlist place
    records them all; a decline only the nomination, regency and sector."""
    if isinstance(event, wire.QuotaAssigned | wire.QuotaWaitlisted):
        return WorkerFacts(
            event.nomination_id, event.regency_code, event.sector, event.decile, event.identity
        )
    if isinstance(event, wire.QuotaDeclined):
        return WorkerFacts(
            nomination_id=event.nomination_id,
            regency_code=event.regency_code,
            sector=event.sector,
            decile=known.decile if known else None,
            identity=known.identity if known else None,
        )
    return None


def to_wire(
    decision: Sequence[QuotaEvent],
    programme: ProgrammeFacts,
    before: QuotaState,
    facts: Mapping[str, WorkerFacts],
    note: str = "",
) -> list[DomainEvent]:
    """The wire events of a decision taken on `before` (the state it was decided on)."""
    events: list[DomainEvent] = []
    seats_changed = [d for d in decision if isinstance(d, SeatsChanged)]
    moved = len(seats_changed) == 2
    seat_desil = {d.worker_id: d.desil for d in decision if isinstance(d, Assign)}
    for d in decision:
        if isinstance(d, SeatsChanged):
            change = ("move_out" if d is seats_changed[0] else "move_in") if moved else "set"
            events.append(
                wire.QuotaChanged(
                    programme_code=programme.code,
                    regency_code=d.regency,
                    sector=d.sector.value,
                    seats=d.seats,
                    previous_seats=before.seats.get(d.cell, 0),
                    over_assigned=d.over_assigned,
                    change=change,
                    note=note,
                )
            )
        elif isinstance(d, BudgetChanged):
            events.append(
                wire.BudgetChanged(
                    programme_code=programme.code,
                    budget_cap=d.budget_cap,
                    previous_cap=before.budget_cap,
                    over_committed=d.over_committed,
                    note=note,
                )
            )
        elif isinstance(d, Assign | Waitlist | Release | Unseat | Decline):
            events.append(_worker_event(d, programme, facts[d.worker_id], seat_desil))
        else:
            raise TypeError(f"{type(d).__name__} is not decided through the allocator")
    return events


def _worker_event(
    d: Assign | Waitlist | Release | Unseat | Decline,
    programme: ProgrammeFacts,
    f: WorkerFacts,
    seat_desil: Mapping[str, int | None],
) -> DomainEvent:
    common: dict[str, Any] = {"worker_id": d.worker_id, "programme_code": programme.code}
    if isinstance(d, Assign):
        return wire.QuotaAssigned(
            **common,
            nomination_id=f.nomination_id,
            funder=programme.funder,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=f.decile,
            identity=_identity(f),
            coverage_start=programme.coverage_start,
            coverage_end=programme.coverage_end,
            premium_per_month=programme.premium_per_month,
            requires_decree=programme.requires_decree,
            promoted=d.promoted,
            nomination_seq=d.nomination_seq,
            desa_code=d.desa_code,
        )
    if isinstance(d, Waitlist):
        return wire.QuotaWaitlisted(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=d.desil,
            identity=_identity(f),
            nomination_seq=d.nomination_seq,
            decree_round=d.decree_round,
            position=d.position,
            reason=d.reason.value,
            desa_code=d.desa_code,
        )
    if isinstance(d, Unseat):
        return wire.QuotaUnseated(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=d.desil,
            nomination_seq=d.nomination_seq,
            decree_round=d.decree_round,
            position=d.position,
            reason=d.reason.value,
            by_worker_id=d.by_worker_id,
            by_decile=seat_desil[d.by_worker_id] or 1,
            desa_code=d.desa_code,
        )
    if isinstance(d, Decline):
        return wire.QuotaDeclined(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            reason="held_by_other_programme",
            held_by=d.held_by,
        )
    return wire.QuotaReleased(
        **common,
        regency_code=f.regency_code,
        sector=f.sector,
        reason=d.reason.value,
        held_by=d.held_by,
    )


def _identity(f: WorkerFacts) -> WorkerIdentity:
    if f.identity is None:
        raise ValueError(f"no identity recorded for nomination {f.nomination_id}")
    return f.identity
