"""The claims handler on the in-memory store: claims recorded and flagged from consumed
ClaimPaid events, with the claims service's tables faked (application/ports.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.enrollment import MembershipEnded
from libs.events.envelope import Envelope
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.messaging.consumer import Consumed
from services.claims.application.handlers import ClaimsHandler
from services.claims.domain.checks import PaidClaim
from services.claims.domain.claim import paid_claim_from
from services.claims.domain.coverage import ProgrammeCoverage
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS
from tests.support.envelopes import envelope_of

PEPPER = "unit-test-pepper"
NIK = "1271014508900001"
WORKER = worker_id_for(NIK, PEPPER)
YEAR_2025 = ProgrammeCoverage(
    worker_id=WORKER,
    programme_code="SUMUT-2025",
    kpj="KPJ-1",
    regency_code="12.17",
    coverage_start=date(2025, 1, 1),
    coverage_end=date(2025, 12, 31),
    enrolled_on=(date(2025, 1, 1),),
    paid_months=frozenset(f"2025-{m:02d}" for m in range(1, 13)),
)


@dataclass
class FakeBook:
    """The claims tables in memory: coverage as the test sets it, claims as the store recorded them."""

    store: InMemoryStore
    programmes: list[ProgrammeCoverage] = field(default_factory=list)
    facts: list[Envelope] = field(default_factory=list)
    kept_runs: list[list[str]] = field(default_factory=list)  # event types, a call each
    sealed: list[tuple[Envelope, str]] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)

    async def keep_coverage_facts(self, envelopes: Sequence[Envelope]) -> None:
        self.facts.extend(envelopes)
        self.kept_runs.append([e.event_type for e in envelopes])

    async def seal_inbox_copy(self, envelope: Envelope, worker_id: str) -> None:
        self.sealed.append((envelope, worker_id))

    async def lock_worker(self, worker_id: str) -> None:
        self.locked.append(worker_id)

    async def other_claims(self, claim: PaidClaim) -> list[PaidClaim]:
        self.kept_runs.append(["(claim read)"])
        recorded = [
            ClaimRecorded.model_validate(e.payload) for e in self.store.log if e.event_type == "ClaimRecorded"
        ]
        return [
            paid_claim_from(r)
            for r in recorded
            if r.claim_id != claim.claim_id and (r.kpj == claim.kpj or r.worker_id == claim.nik)
        ]

    async def coverage_for(self, kpj: str, worker_id: str) -> list[ProgrammeCoverage]:
        return [p for p in self.programmes if p.kpj == kpj or p.worker_id == worker_id]


@dataclass
class Claims:
    store: InMemoryStore
    book: FakeBook
    handler: ClaimsHandler

    def consume_batch(self, *events: DomainEvent) -> None:
        """The events consumed in one batch (and transaction)."""
        items = []
        for offset, event in enumerate(events):
            envelope = envelope_of(event, "bpjs_simulator", "bpjs-claim")
            record = ConsumerRecord("topic", 0, offset, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
            items.append(Consumed(record, envelope, event, envelope))

        async def apply(tx: StoreTransaction) -> None:
            await self.handler.react(tx, items)

        asyncio.run(self._in_transaction(apply))

    def consume(self, *events: DomainEvent) -> None:
        """Each event consumed in a batch (and transaction) of its own."""
        for event in events:
            envelope = envelope_of(event, "bpjs_simulator", "bpjs-claim")
            record = ConsumerRecord("topic", 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
            item = Consumed(record, envelope, event, envelope)

            async def apply(tx: StoreTransaction, item: Consumed = item) -> None:
                await self.handler.react(tx, [item])

            asyncio.run(self._in_transaction(apply))

    async def _in_transaction(self, work: Callable[[StoreTransaction], Awaitable[None]]) -> None:
        async with self.store.transaction() as tx:
            await work(tx)

    def events(self, claim_id: str) -> list[DomainEvent]:
        return [
            (ClaimRecorded if e.event_type == "ClaimRecorded" else ClaimFlagged).model_validate(e.payload)
            for e in self.store.events(f"claim-{claim_id}")
        ]

    def codes(self, claim_id: str) -> list[list[str]]:
        return [[r.code for r in e.reasons] for e in self.events(claim_id) if isinstance(e, ClaimFlagged)]


@pytest.fixture
def claims() -> Claims:
    store = InMemoryStore("claims")
    book = FakeBook(store, [YEAR_2025])
    return Claims(store, book, ClaimsHandler(BENEFIT_RULES_DEFAULTS, PEPPER, book_of=lambda tx: book))


def paid(claim_id: str = "CLM-1", *, kpj: str = "KPJ-1", nik: str = NIK, **changes: object) -> ClaimPaid:
    fields: dict[str, object] = {
        "claim_id": claim_id,
        "kpj": kpj,
        "nik": nik,
        "programme": "JKM",
        "benefit_kind": "DEATH",
        "incident_date": date(2025, 5, 20),
        "paid_date": date(2025, 6, 10),
        "amount": 42_000_000,
    }
    return ClaimPaid.model_validate(fields | changes)


def test_a_covered_claim_is_recorded_once_without_flags(claims: Claims) -> None:
    claims.consume(paid())
    [recorded] = claims.events("CLM-1")
    assert isinstance(recorded, ClaimRecorded)
    assert (recorded.worker_id, recorded.programme_code, recorded.regency_code) == (
        WORKER,
        "SUMUT-2025",
        "12.17",
    )
    assert [m.topic for m in claims.store.outbox] == ["lindung.claims.v1"]
    # The NIK is never kept: the inbox copy is sealed under the worker, the claims are serialized by them.
    assert [w for _, w in claims.book.sealed] == [WORKER] and claims.book.locked == [WORKER]


def test_the_same_delivery_twice_records_nothing_more(claims: Claims) -> None:
    claims.consume(paid(), paid())
    assert len(claims.events("CLM-1")) == 1


def test_an_incident_outside_coverage_is_recorded_and_flagged(claims: Claims) -> None:
    claims.consume(paid(incident_date=date(2024, 12, 20), paid_date=date(2025, 1, 10)))
    recorded, flagged = claims.events("CLM-1")
    assert isinstance(recorded, ClaimRecorded) and isinstance(flagged, ClaimFlagged)
    assert claims.codes("CLM-1") == [["INCIDENT_OUTSIDE_COVERAGE"]]
    assert flagged.reasons[0].details["coverage_reason"] == "BEFORE_COVERAGE_START"


def test_an_unknown_kpj_is_flagged_as_unknown_participant(claims: Claims) -> None:
    claims.book.programmes = []
    claims.consume(paid())
    assert claims.codes("CLM-1") == [["UNKNOWN_PARTICIPANT"]]


def test_a_changed_amount_is_flagged_with_the_new_version_and_its_repeat_records_nothing(
    claims: Claims,
) -> None:
    claims.consume(paid(), paid(amount=40_000_000))
    assert claims.codes("CLM-1") == [["CLAIM_AMOUNT_CHANGED"]]
    flagged = claims.events("CLM-1")[-1]
    assert isinstance(flagged, ClaimFlagged)
    assert (flagged.reasons[0].details["amount"], flagged.reasons[0].details["previous_amount"]) == (
        "40000000",
        "42000000",
    )
    claims.consume(paid(amount=40_000_000))  # the new version again: the stream knows it
    assert len(claims.events("CLM-1")) == 2


def test_the_same_nik_dying_twice_under_two_kpjs_is_flagged(claims: Claims) -> None:
    claims.consume(paid("CLM-1"), paid("CLM-2", kpj="KPJ-OTHER"))
    assert claims.codes("CLM-1") == []
    assert "DUPLICATE_DEATH_CLAIM" in claims.codes("CLM-2")[0]


def test_an_unknown_benefit_kind_is_refused_so_the_consumer_parks_it(claims: Claims) -> None:
    with pytest.raises(ValueError, match="unknown benefit kind"):
        claims.consume(paid(benefit_kind="HOLIDAY"))
    assert claims.store.log == []


def membership_ended(worker: str = WORKER) -> MembershipEnded:
    return MembershipEnded.model_validate(
        {
            "worker_id": worker,
            "programme_code": "SUMUT-2025",
            "regency_code": "12.17",
            "kpj": "KPJ-1",
            "months_unpaid": ["2025-06", "2025-07", "2025-08", "2025-09"],
            "ended_on": "2025-05-31",
            "arrears_months_allowed": 3,
        }
    )


def test_coverage_events_are_kept_as_facts(claims: Claims) -> None:
    claims.consume(membership_ended())
    assert [e.event_type for e in claims.book.facts] == ["MembershipEnded"]
    assert claims.store.log == []


def test_a_run_of_coverage_facts_is_kept_at_once_before_the_claim_after_it_reads(claims: Claims) -> None:
    claims.consume_batch(membership_ended("w-1"), membership_ended("w-2"), paid(), membership_ended("w-3"))
    assert claims.book.kept_runs == [
        ["MembershipEnded", "MembershipEnded"],
        ["(claim read)"],
        ["MembershipEnded"],
    ]
    assert [type(e) for e in claims.events("CLM-1")] == [ClaimRecorded]
