"""What may be asked of a programme's stream, and the decider that answers it.

Commands: define the programme, decide about a validated worker, release a worker (withdrawn,
died, enrollment failed, membership ended, or held by another programme), set or move seats, set
the budget, issue a decree (decree_issue.py). The quota rules are quota.py's; this module maps
commands to them and their decisions to wire events.

One payer per worker (cross_programme.py): a decision that seats a worker must know the worker's
holds in other programmes, which no stream of this programme records. They come with the command
(`holds`, read by the application through its port); a decision that would seat a worker whose
holds it was not given raises `NeedHolds`, and the application asks again with them. A seat
taken here may take the worker from another programme (`follow_ups`).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from libs.events.contracts import allocation as wire
from libs.events.contracts.base import DomainEvent
from libs.eventstore.decider import Decider
from libs.regions import PROVINCE_CODE, region_by_code
from services.allocation.domain.cross_programme import (
    CrossProgrammeVerdict,
    ProgrammeHold,
    check_cross_programme,
)
from services.allocation.domain.decree_issue import IssueDecree, decide_decree
from services.allocation.domain.period import Period
from services.allocation.domain.programme_facts import ProgrammeAlreadyDefined, ProgrammeFacts
from services.allocation.domain.programme_stream import EMPTY, ProgrammeStream, evolve
from services.allocation.domain.quota import (
    Decision,
    ValidatedWorker,
    decide_budget,
    decide_move,
    decide_release,
    decide_seats,
    decide_validated,
)
from services.allocation.domain.quota_events import Assign, ReleaseReason
from services.allocation.domain.quota_wire import WorkerFacts, nominated_at, stream_of, to_wire
from services.allocation.domain.refusals import Refused
from services.allocation.domain.sector import QuotaCell, Sector
from services.allocation.domain.wording import number, rupiah, sector_name


@dataclass(frozen=True, slots=True)
class WorkerHolds:
    """A worker's seats and waitlist places in other programmes, and their nomination order here."""

    nomination_seq: int | None
    holds: tuple[ProgrammeHold, ...] = ()


Holds = Mapping[str, WorkerHolds]
"""Worker id -> their holds elsewhere, as the application read them for a command."""

_NO_HOLDS: Holds = {}


class NeedHolds(Exception):
    """The decision would seat workers whose holds elsewhere the command did not carry."""

    def __init__(self, workers: Mapping[str, int | None]) -> None:
        super().__init__(f"holds of {len(workers)} workers needed")
        self.workers = dict(workers)  # worker id -> nomination_seq


class SeatFixedMeanwhile(Exception):
    """The seat a displacement would release was fixed (decreed) since the holds were read."""


@dataclass(frozen=True)
class DefineProgramme:
    """Record a programme's definition (the same definition again: nothing)."""

    event: wire.ProgrammeDefined

    @property
    def programme_code(self) -> str:
        return self.event.programme_code


@dataclass(frozen=True)
class Validate:
    """Seat, waitlist or decline a worker the registry validated."""

    programme_code: str
    worker: ValidatedWorker
    facts: WorkerFacts
    holds: Holds = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseWorker:
    """Release a worker. `displacing`: only their seat, which must still be provisional (another
    programme outranks it); `leaving_waitlist`: only their waitlist place."""

    programme_code: str
    worker_id: str
    reason: ReleaseReason
    held_by: str | None = None
    displacing: bool = False
    leaving_waitlist: bool = False
    holds: Holds = field(default_factory=dict)


@dataclass(frozen=True)
class SetSeats:
    """Raise or cut one cell's seats."""

    programme_code: str
    regency: str
    sector: str
    seats: int
    note: str = ""
    holds: Holds = field(default_factory=dict)


@dataclass(frozen=True)
class MoveSeats:
    """Move seats from one cell to another (between regencies or sectors)."""

    programme_code: str
    source: tuple[str, str]
    target: tuple[str, str]
    seats: int
    note: str = ""
    holds: Holds = field(default_factory=dict)


@dataclass(frozen=True)
class SetBudget:
    """Set the budget cap (e.g. APBD-P)."""

    programme_code: str
    budget_cap: int
    note: str = ""
    holds: Holds = field(default_factory=dict)


QuotaCommand = Validate | ReleaseWorker | SetSeats | MoveSeats | SetBudget
ProgrammeCommand = DefineProgramme | QuotaCommand | IssueDecree


def verdict_of(code: str, period: Period, worker: WorkerHolds) -> CrossProgrammeVerdict:
    """May programme `code` (covering `period`) seat a worker with these holds elsewhere?"""
    if not worker.holds:
        return CrossProgrammeVerdict(allowed=True)
    candidate = ProgrammeHold(code, period, nominated_at(worker.nomination_seq))
    return check_cross_programme(worker.holds, candidate)


def decide(command: ProgrammeCommand, state: ProgrammeStream) -> list[DomainEvent]:
    """The events a command records on its programme's stream (see the module doc)."""
    if isinstance(command, DefineProgramme):
        return _define(command, state)
    if isinstance(command, IssueDecree):
        return decide_decree(command, state)
    _check_input(command)
    facts = state.defined(command.programme_code)
    decision = _decision(command, state, facts)
    seated = {d.worker_id: d.nomination_seq for d in decision if isinstance(d, Assign)}
    unknown = {w: seq for w, seq in seated.items() if w not in command.holds}
    if unknown:
        raise NeedHolds(unknown)
    workers: Mapping[str, WorkerFacts] = state.workers
    if isinstance(command, Validate):
        # A view, not a copy: a programme holds tens of thousands of workers.
        workers = ChainMap({command.worker.worker_id: command.facts}, state.workers)
    note = command.note if isinstance(command, SetSeats | MoveSeats | SetBudget) else ""
    return to_wire(decision, facts, state.quota, workers, note)


def programme_decider() -> Decider[ProgrammeCommand, ProgrammeStream]:
    """The decider of programme streams (`programme-<code>`)."""
    return Decider(
        kind="programme",
        initial=EMPTY,
        evolve=evolve,
        decide=decide,
        stream_of=lambda command: stream_of(command.programme_code),
    )


def follow_ups(seat: wire.QuotaAssigned, holds: Holds) -> list[ReleaseWorker]:
    """What a seat taken here asks of other programmes: an outranked provisional seat there is
    released, a waitlist place there is left (both HELD_BY_OTHER_PROGRAMME)."""
    worker = holds.get(seat.worker_id)
    if worker is None or not worker.holds:
        return []
    period = Period(seat.coverage_start, seat.coverage_end)
    verdict = verdict_of(seat.programme_code, period, worker)
    reason = ReleaseReason.HELD_BY_OTHER_PROGRAMME
    keeper, worker_id = seat.programme_code, seat.worker_id
    return [
        ReleaseWorker(other, worker_id, reason, held_by=keeper, displacing=True)
        for other in verdict.displaces
    ] + [
        ReleaseWorker(other, worker_id, reason, held_by=keeper, leaving_waitlist=True)
        for other in verdict.waiting_in
    ]


def _define(command: DefineProgramme, state: ProgrammeStream) -> list[DomainEvent]:
    if state.definition is None:
        return [command.event]
    if state.definition == command.event.model_dump(mode="json"):
        return []
    raise ProgrammeAlreadyDefined(
        f"Program {command.programme_code} sudah ditetapkan; perubahan kuota memakai perubahan SK."
    )


def _check_input(command: QuotaCommand) -> None:
    """Refusals that need no programme (as officers asked before the programme is looked up)."""
    if isinstance(command, SetSeats) and command.seats < 0:
        raise Refused(422, "SEATS_INVALID", f"Jumlah kursi tidak boleh negatif ({command.seats}).")
    if isinstance(command, MoveSeats) and command.seats <= 0:
        raise Refused(422, "MOVE_SEATS_INVALID", "Jumlah kursi yang dipindahkan harus lebih dari 0.")
    if isinstance(command, SetBudget) and command.budget_cap < 0:
        raise Refused(
            422, "BUDGET_INVALID", f"Pagu anggaran tidak boleh negatif ({rupiah(command.budget_cap)})."
        )


def _decision(command: QuotaCommand, state: ProgrammeStream, facts: ProgrammeFacts) -> Decision:
    quota = state.quota
    if isinstance(command, Validate):
        worker = command.worker
        known = command.holds.get(worker.worker_id)
        verdict = verdict_of(facts.code, facts.period, known) if known else None
        held_by = verdict.held_by if verdict is not None and not verdict.allowed else None
        return decide_validated(quota, worker, held_by=held_by)
    blocked = _blocked(facts, command.holds)
    if isinstance(command, ReleaseWorker):
        worker_id = command.worker_id
        if command.displacing and state.seat_is_final(worker_id):
            raise SeatFixedMeanwhile(f"{worker_id}'s seat in {facts.code} was fixed meanwhile")
        if command.displacing and worker_id not in quota.assigned:
            return ()  # no longer held there: nothing to release
        if command.leaving_waitlist and worker_id not in quota.waiting:
            return ()  # no longer waiting there: nothing to do
        return decide_release(quota, worker_id, command.reason, held_by=command.held_by, blocked=blocked)
    if isinstance(command, SetSeats):
        return decide_seats(quota, _cell(facts, command.regency, command.sector), command.seats, blocked)
    if isinstance(command, MoveSeats):
        source, target = _cell(facts, *command.source), _cell(facts, *command.target)
        if source == target:
            raise Refused(422, "MOVE_SAME_CELL", f"Kuota asal dan tujuan sama ({_label(source)}).")
        available = quota.seats.get(source, 0)
        if available < command.seats:
            raise Refused(
                409,
                "MOVE_NOT_ENOUGH_SEATS",
                f"Kuota {_label(source)} hanya {number(available)} kursi; "
                f"tidak dapat memindahkan {number(command.seats)} kursi.",
                available=available,
            )
        return decide_move(quota, source, target, command.seats, blocked)
    return decide_budget(quota, command.budget_cap, blocked)


def _blocked(facts: ProgrammeFacts, holds: Holds) -> dict[str, str]:
    """Waiting workers another programme keeps (worker id -> that programme)."""
    blocked: dict[str, str] = {}
    for worker_id, worker in holds.items():
        verdict = verdict_of(facts.code, facts.period, worker)
        if not verdict.allowed and verdict.held_by:
            blocked[worker_id] = verdict.held_by
    return blocked


def _cell(programme: ProgrammeFacts, regency: str, sector: str) -> QuotaCell:
    """The quota cell named by an officer, checked against the region table and jurisdiction."""
    region = region_by_code(regency)
    if region is None or region.kemendagri_code != regency:
        raise Refused(
            422, "REGENCY_UNKNOWN", f"Kode kabupaten/kota {regency} tidak dikenal di Sumatera Utara."
        )
    if programme.jurisdiction != PROVINCE_CODE and regency != programme.jurisdiction:
        raise Refused(
            422,
            "REGENCY_OUTSIDE_JURISDICTION",
            f"{region.official_name} berada di luar wilayah program {programme.code}.",
        )
    try:
        return QuotaCell(regency, Sector(sector))
    except ValueError:
        raise Refused(
            422, "SECTOR_INVALID", f"Sektor '{sector}' tidak dikenal; isi 'sawit' atau 'non_sawit'."
        ) from None


def _label(cell: QuotaCell) -> str:
    region = region_by_code(cell.regency)
    name = region.official_name if region else cell.regency
    return f"{name} sektor {sector_name(cell.sector)}"
