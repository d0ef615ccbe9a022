"""The province admin's commands: change seats or the budget, issue a decree (SK).

Commands run one at a time per process (they are rare, and their quota-state cache is advanced in
place, see quota_stream.py), each in one transaction retried when a consumer appended to the same
programme first. Refusals carry a machine code and a message for officers, in Indonesian.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.store import EventStore
from libs.privacy.vault import KeyVault
from libs.regions import PROVINCE_CODE, region_by_code
from services.allocation.adapters.tables import eventstore
from services.allocation.application.allocate import Allocator, Outcome, Step
from services.allocation.application.programmes import ProgrammeBook, ProgrammeFacts
from services.allocation.application.quota_stream import QuotaStates
from services.allocation.domain.quota import Decision, QuotaState, decide_budget, decide_move, decide_seats
from services.allocation.domain.sector import QuotaCell, Sector
from services.allocation.domain.wording import number, rupiah, sector_name

T = TypeVar("T")
MAX_ATTEMPTS = 30


class Refused(Exception):
    """A command the rules refuse: HTTP status, machine code, message for officers (Indonesian)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            **({"details": self.details} if self.details else {}),
        }


@dataclass
class ChangeResult:
    """What a quota or budget change decided."""

    programme_code: str
    changed: bool
    events: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, code: str, outcome: Outcome) -> ChangeResult:
        mine = [e for e in outcome.envelopes if e.payload.get("programme_code") == code]
        return cls(
            programme_code=code,
            changed=bool(outcome.envelopes),
            events=[e.event_type for e in outcome.envelopes],
            promoted=[e.payload["worker_id"] for e in mine if e.event_type == "QuotaAssigned"],
            released=[e.payload["worker_id"] for e in mine if e.event_type == "QuotaReleased"],
        )


class Commands:
    """Runs admin commands with their own quota-state cache, one at a time."""

    def __init__(self, book: ProgrammeBook, vault: KeyVault | None = None) -> None:
        self.book = book
        self.states = QuotaStates(EventStore(eventstore, "allocation", vault=vault))
        self.allocator = Allocator(self.states, book)
        self._lock = asyncio.Lock()

    async def run(self, engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` in one transaction; retried while another writer wins the race."""
        async with self._lock:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    async with engine.begin() as conn:
                        return await work(conn)
                except ConcurrencyError:
                    await asyncio.sleep(0.01 * attempt)
        raise Refused(503, "ALLOCATION_BUSY", "Sistem alokasi sedang sibuk; silakan coba lagi sebentar lagi.")

    async def set_seats(
        self,
        engine: AsyncEngine,
        store: EventStore,
        code: str,
        regency: str,
        sector: str,
        seats: int,
        note: str,
    ) -> ChangeResult:
        """Raise or cut one cell's seats; a raise re-flows the waitlist."""
        if seats < 0:
            raise Refused(422, "SEATS_INVALID", f"Jumlah kursi tidak boleh negatif ({seats}).")

        async def work(conn: AsyncConnection) -> ChangeResult:
            programme = await self.book.get(conn, code)
            cell = _cell(programme, regency, sector)

            def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
                return decide_seats(state, cell, seats, blocked)

            return await self._decide(conn, store, code, decide, note)

        return await self.run(engine, work)

    async def move_seats(
        self,
        engine: AsyncEngine,
        store: EventStore,
        code: str,
        source: tuple[str, str],
        target: tuple[str, str],
        seats: int,
        note: str,
    ) -> ChangeResult:
        """Move seats between two cells (between regencies or sectors)."""
        if seats <= 0:
            raise Refused(422, "MOVE_SEATS_INVALID", "Jumlah kursi yang dipindahkan harus lebih dari 0.")

        async def work(conn: AsyncConnection) -> ChangeResult:
            programme = await self.book.get(conn, code)
            src, dst = _cell(programme, *source), _cell(programme, *target)
            if src == dst:
                raise Refused(422, "MOVE_SAME_CELL", f"Kuota asal dan tujuan sama ({_label(src)}).")
            available = (await self.states.load(conn, code)).state.seats.get(src, 0)
            if available < seats:
                raise Refused(
                    409,
                    "MOVE_NOT_ENOUGH_SEATS",
                    f"Kuota {_label(src)} hanya {number(available)} kursi; "
                    f"tidak dapat memindahkan {number(seats)} kursi.",
                    available=available,
                )

            def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
                return decide_move(state, src, dst, seats, blocked)

            return await self._decide(conn, store, code, decide, note)

        return await self.run(engine, work)

    async def set_budget(
        self, engine: AsyncEngine, store: EventStore, code: str, budget_cap: int, note: str
    ) -> ChangeResult:
        """Set the budget cap (e.g. APBD-P); a raise re-flows the waitlist."""
        if budget_cap < 0:
            raise Refused(422, "BUDGET_INVALID", f"Pagu anggaran tidak boleh negatif ({rupiah(budget_cap)}).")

        async def work(conn: AsyncConnection) -> ChangeResult:
            await self.book.get(conn, code)

            def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
                return decide_budget(state, budget_cap, blocked)

            return await self._decide(conn, store, code, decide, note)

        return await self.run(engine, work)

    async def _decide(
        self, conn: AsyncConnection, store: EventStore, code: str, decide: Any, note: str
    ) -> ChangeResult:
        outcome = await self.allocator.run(
            conn, store, Step(code, decide, note=note), correlation_id=uuid.uuid4(), causation_id=None
        )
        return ChangeResult.of(code, outcome)


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
