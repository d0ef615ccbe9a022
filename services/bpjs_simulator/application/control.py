"""The simulator's control panel (tests, demos): outages, participants BPJS knew before Lindung,
and claims pushed as BPJS. Each command runs in a transaction of the stream kit."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol

from libs.events.contracts.bpjs import ClaimPaid
from libs.eventstore.kit import StreamKit
from libs.eventstore.ports import StoreTransaction
from libs.pii import mask_nik
from services.bpjs_simulator.application.handlers import InsurerHandler
from services.bpjs_simulator.application.ports import HeldAnswer, InsurerBook
from services.bpjs_simulator.application.release import OutageState, real_now
from services.bpjs_simulator.domain.answers import answer_stream
from services.bpjs_simulator.domain.requests import BPJS_TIMEZONE


@dataclass(frozen=True)
class KnownParticipant:
    """A participant BPJS registered before Lindung (an earlier year, another payer)."""

    nik: str
    kpj: str
    registered_at: datetime


class ControlBook(Protocol):
    """The control panel's reads and writes, within one transaction."""

    async def set_outage(self, until: datetime | None) -> datetime | None:
        """Begin (or extend) an outage until `until`, or lift it (None); return its end."""
        ...

    async def nik_of(self, kpj: str) -> str | None:
        """The NIK of the participant holding `kpj` (None: BPJS did not issue it)."""
        ...

    async def held_pairs(self, niks: Sequence[str], kpjs: Sequence[str]) -> set[tuple[str, str]]:
        """The (NIK, KPJ) of every participant holding one of `niks` or one of `kpjs`."""
        ...

    async def add_known(self, known: Sequence[KnownParticipant]) -> bool:
        """Add participants; False (nothing added) when one of their NIKs or KPJs was taken
        meanwhile."""
        ...


class KpjUnknown(LookupError):
    """A claim pushed for a KPJ the simulator did not issue, without the participant's NIK."""


class ParticipantConflict(ValueError):
    """Known participants refused as a whole (a NIK or a KPJ held otherwise)."""


@dataclass(frozen=True)
class ClaimToPush:
    """A claim BPJS paid, to push to Lindung on its claims topic."""

    kpj: str
    programme: Literal["JKK", "JKM"]
    benefit_kind: str
    incident_date: date
    amount: int
    paid_date: date | None = None
    claim_id: str | None = None
    nik: str | None = None


def clash_within(listed: Sequence[KnownParticipant]) -> str | None:
    """Why a list of known participants contradicts itself (a NIK or a KPJ twice), or None."""
    for name, values in (("NIK", [p.nik for p in listed]), ("KPJ", [p.kpj for p in listed])):
        if len(set(values)) != len(values):
            return f"{name} yang sama muncul lebih dari sekali dalam daftar."
    return None


def clash_with(listed: Sequence[KnownParticipant], held: set[tuple[str, str]]) -> str | None:
    """A listed participant whose NIK holds another KPJ, or whose KPJ another NIK holds."""
    held_niks = {nik for nik, _ in held}
    held_kpjs = {kpj for _, kpj in held}
    for p in listed:
        if (p.nik, p.kpj) in held:
            continue
        if p.nik in held_niks:
            return f"NIK {mask_nik(p.nik)} sudah terdaftar dengan KPJ lain."
        if p.kpj in held_kpjs:
            return f"KPJ {p.kpj} sudah terdaftar atas NIK lain."
    return None


@dataclass
class Simulator:
    """The simulator's application layer, as bootstrap.py built it: the request handler, the
    outage state shared with the background loops, and the control panel's commands."""

    handler: InsurerHandler
    book_of: Callable[[StoreTransaction], InsurerBook]
    control_of: Callable[[StoreTransaction], ControlBook]
    outage: OutageState

    async def go_down(self, kit: StreamKit, seconds: float) -> datetime | None:
        """Begin (or extend) an outage of `seconds` from now; 0 ends any outage. Returns its end."""
        until = real_now() + timedelta(seconds=seconds) if seconds > 0 else None
        end = await kit.transact(lambda tx: self.control_of(tx).set_outage(until))
        self.outage.until = end
        self.outage.changed.set()
        self.outage.release.set()
        return end

    async def preload(self, kit: StreamKit, listed: Sequence[tuple[str, str, date]]) -> tuple[int, int]:
        """Load participants BPJS already holds (NIK, KPJ, day registered); return how many were
        new and how many held already. ParticipantConflict refuses the whole list."""
        known = [
            KnownParticipant(nik, kpj, datetime.combine(day, time(), tzinfo=BPJS_TIMEZONE))
            for nik, kpj, day in listed
        ]

        async def load(tx: StoreTransaction) -> int:
            control = self.control_of(tx)
            clash = clash_within(known)
            held = await control.held_pairs([p.nik for p in known], [p.kpj for p in known])
            clash = clash or clash_with(known, held)
            if clash:
                raise ParticipantConflict(clash)
            new = [p for p in known if (p.nik, p.kpj) not in held]
            # A registration or another load taking one of these NIKs or KPJs meanwhile: the
            # whole list is refused, as a clash found above would be.
            if new and not await control.add_known(new):
                raise ParticipantConflict("NIK atau KPJ dalam daftar baru saja didaftarkan; kirim lagi.")
            return len(new)

        loaded = await kit.transact(load)
        return loaded, len(known) - loaded

    async def push_claim(self, kit: StreamKit, claim: ClaimToPush) -> str:
        """Hold a ClaimPaid for a participant, due now (sent at once, or when an outage ends);
        return its claim id. KpjUnknown: a KPJ the simulator did not issue, without a NIK."""

        async def push(tx: StoreTransaction) -> str:
            nik = claim.nik or await self.control_of(tx).nik_of(claim.kpj)
            if nik is None:
                raise KpjUnknown(claim.kpj)
            now = real_now()
            claim_id = claim.claim_id or f"CLM-{now.strftime('%Y%m%d%H%M%S%f')}"
            event = ClaimPaid(
                claim_id=claim_id,
                kpj=claim.kpj,
                nik=nik,
                programme=claim.programme,
                benefit_kind=claim.benefit_kind,
                incident_date=claim.incident_date,
                paid_date=claim.paid_date or self.handler.now().date(),
                amount=claim.amount,
            )
            answer = HeldAnswer(
                stream=answer_stream("claim", claim_id),
                event_type=event.event_type,
                payload=event.model_dump(mode="json"),
                correlation_id=uuid.uuid4(),
                causation_id=None,
                due_at=now,
            )
            await self.book_of(tx).hold([answer])
            return claim_id

        claim_id = await kit.transact(push)
        self.outage.release.set()
        return claim_id
