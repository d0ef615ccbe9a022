"""Enrollment's handlers on the in-memory store, without PostgreSQL or Kafka: consumed events go
through the Reactor, the clock, the lapse recorder and the bill command run on the stream kit,
and the read models a decision needs come from a fake read port."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events.contracts.allocation import AssignmentDecreed, QuotaAssigned, QuotaReleased
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    PremiumPaymentConfirmed,
    RegistrationAccepted,
    RegistrationRejected,
)
from libs.events.contracts.common import Funder
from libs.events.envelope import Envelope
from libs.eventstore.kit import StreamKit
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.enrollment.application.billing import bill_month
from services.enrollment.application.clock import run_deadlines
from services.enrollment.application.context import EnrollmentApp
from services.enrollment.application.handlers import EnrollmentReactor
from services.enrollment.application.lapses import run_lapses
from services.enrollment.application.ports import BillableRegistration, ProgrammeTerms, Waiting
from services.enrollment.domain.coverage import CoverageLedger, Enrollment, PremiumPayment
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.premium_payment import bill_stream
from services.enrollment.domain.registration import registration_stream
from tests.support.envelopes import envelope_of
from tests.unit.enrollment.test_application import CONFIG, PROGRAMME, WORKER, requested

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
STREAM = registration_stream(WORKER, PROGRAMME)
REQUEST_ID = f"{WORKER}:{PROGRAMME}"


@dataclass
class FakeReads:
    """The read port as the handlers see it, kept in memory by the test."""

    kpjs: dict[str, str] = field(default_factory=dict)
    counted: Counter[tuple[str, str]] = field(default_factory=Counter)
    consumed: list[Envelope] = field(default_factory=list)
    stop_answers: dict[str, bool] = field(default_factory=dict)
    lapsed: list[str] = field(default_factory=list)
    terms: ProgrammeTerms | None = None
    registrations: list[BillableRegistration] = field(default_factory=list)
    ledgers: dict[tuple[str, str], CoverageLedger] = field(default_factory=dict)
    waiting: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    async def lock_registrations(self, request_ids: Sequence[str]) -> None:
        return None

    async def lock_registration(self, worker_id: str, programme_code: str) -> None:
        return None

    async def lock_bill(self, bill_id: str) -> None:
        return None

    async def known_kpjs(self, worker_ids: Sequence[str]) -> dict[str, str]:
        return {w: self.kpjs[w] for w in worker_ids if w in self.kpjs}

    async def first_stop_answer(self, answer: Any) -> tuple[bool, str] | None:
        if answer.request_id not in self.stop_answers:
            return None
        first = self.stop_answers[answer.request_id]
        self.stop_answers[answer.request_id] = False
        return first, PROGRAMME

    async def project_consumed(self, envelope: Envelope) -> None:
        self.consumed.append(envelope)

    async def count(self, outcomes: Iterable[tuple[str, str]]) -> None:
        self.counted.update(outcomes)

    async def lapsed_workers(self, programme_code: str, month: str, worker_ids: Sequence[str]) -> list[str]:
        return [w for w in worker_ids if w in self.lapsed]

    async def lock_billing(self, programme_code: str, month: str) -> None:
        return None

    async def programme(self, programme_code: str) -> ProgrammeTerms | None:
        return self.terms

    async def billable(self, programme_code: str) -> list[BillableRegistration]:
        return self.registrations

    async def billed_workers(self, programme_code: str, month: str) -> set[str]:
        return set()

    async def bill_lines(self, programme_code: str, month: str) -> int:
        return 0

    async def spent(self, programme_code: str) -> int:
        return 0

    async def try_lock_lapses(self) -> bool:
        return True

    async def enrolled_ledgers(
        self, today: date, after_end_days: int
    ) -> dict[tuple[str, str], CoverageLedger]:
        return self.ledgers

    async def due(
        self, kind: Waiting, now: datetime, timeout: timedelta, limit: int
    ) -> list[tuple[Any, ...]]:
        return self.waiting.get(kind, [])

    async def claim_due(self, kind: Waiting, key: tuple[Any, ...], now: datetime, timeout: timedelta) -> bool:
        return True

    async def next_deadline(self, timeout: timedelta) -> datetime | None:
        return None


class Clock:
    """Real time and the business calendar of a test, both moved by hand."""

    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


@dataclass
class Service:
    store: InMemoryStore
    reads: FakeReads
    clock: Clock
    app: EnrollmentApp
    kit: StreamKit

    async def consume(self, *events: DomainEvent) -> None:
        """The events as the consumer hands them to the Reactor, in one batch."""
        async with self.store.transaction() as tx:
            await EnrollmentReactor(self.app).react(tx, [consumed(e) for e in events])

    def types(self, stream: str = STREAM) -> list[str]:
        return [e.event_type for e in self.store.events(stream)]

    def last(self, stream: str = STREAM) -> dict[str, Any]:
        return self.store.events(stream)[-1].payload


def consumed(event: DomainEvent) -> Consumed:
    envelope = envelope_of(event, "allocation", "source")
    record = ConsumerRecord(event.topic, 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, [])
    return Consumed(record, envelope, event, envelope)


@pytest.fixture
def service() -> Service:
    store, reads, clock = InMemoryStore("enrollment"), FakeReads(), Clock()

    def reads_of(tx: StoreTransaction) -> FakeReads:
        return reads

    app = EnrollmentApp(CONFIG, reads_of, now=clock.now, real_now=clock.now, rng=random.Random(7))
    return Service(store, reads, clock, app, StreamKit(store, clock=clock.now))


def assigned(requires_decree: bool = False) -> QuotaAssigned:
    r = requested(1)
    return QuotaAssigned(
        worker_id=WORKER,
        nomination_id="nom-1",
        programme_code=PROGRAMME,
        funder=r.funder,
        regency_code=r.regency_code,
        sector=r.sector,
        decile=1,
        identity=r.identity,
        coverage_start=r.coverage_start,
        coverage_end=r.coverage_end,
        premium_per_month=16_800,
        requires_decree=requires_decree,
    )


def decreed() -> AssignmentDecreed:
    a = assigned(True)
    return AssignmentDecreed(
        worker_id=WORKER,
        programme_code=PROGRAMME,
        decree_number="188.44/1/2026",
        funder=a.funder,
        regency_code=a.regency_code,
        sector=a.sector,
        identity=a.identity,
        coverage_start=a.coverage_start,
        coverage_end=a.coverage_end,
        premium_per_month=16_800,
    )


def accepted(attempt: int = 1, kpj: str = "KPJ26000000001") -> RegistrationAccepted:
    at = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)  # 6 January in WIB
    return RegistrationAccepted(
        request_id=REQUEST_ID, attempt=attempt, worker_id=WORKER, kpj=kpj, registered_at=at
    )


def rejected(attempt: int = 1, retryable: bool = True) -> RegistrationRejected:
    return RegistrationRejected(
        request_id=REQUEST_ID,
        attempt=attempt,
        worker_id=WORKER,
        reason_code="DUKCAPIL_UNAVAILABLE" if retryable else "NIK_NOT_FOUND",
        reason="coba lagi" if retryable else "NIK tidak ditemukan",
        retryable=retryable,
    )


def released(reason: str = "died") -> QuotaReleased:
    return QuotaReleased(
        worker_id=WORKER, programme_code=PROGRAMME, regency_code="12.17", sector="non_sawit", reason=reason
    )


# --- assignments -------------------------------------------------------------------------------


async def test_an_assignment_sends_attempt_1_of_the_registration_once(service: Service) -> None:
    service.reads.kpjs[WORKER] = "KPJ25000000007"  # a continuing participant
    await service.consume(assigned(), assigned())
    assert service.types() == ["RegistrationRequested"]
    sent = service.last()
    assert (sent["attempt"], sent["request_id"], sent["kpj"]) == (1, REQUEST_ID, "KPJ25000000007")
    assert [m.topic for m in service.store.outbox] == ["lindung.bpjs.requests.v1"]
    await service.consume(assigned())  # redelivered: BPJS is asked nothing new
    assert service.types() == ["RegistrationRequested"]


async def test_a_programme_that_requires_a_decree_registers_on_the_decree(service: Service) -> None:
    await service.consume(assigned(requires_decree=True))
    assert service.types() == []
    await service.consume(decreed())
    assert service.types() == ["RegistrationRequested"]


# --- answers -----------------------------------------------------------------------------------


async def test_an_acceptance_enrolls_and_is_counted_once(service: Service) -> None:
    await service.consume(assigned())
    await service.consume(accepted(), accepted())  # the same answer twice in one batch
    assert service.types() == ["RegistrationRequested", "EnrolledAtBPJS"]
    enrolled = service.last()
    assert (enrolled["kpj"], enrolled["enrolled_on"]) == ("KPJ26000000001", "2026-01-06")
    assert service.reads.counted == Counter(
        {(PROGRAMME, "registration:APPLIED"): 1, (PROGRAMME, "registration:DUPLICATE"): 1}
    )


async def test_a_second_kpj_is_a_conflict_the_first_stands(service: Service) -> None:
    await service.consume(assigned(), accepted())
    await service.consume(accepted(kpj="KPJ26000000999"))
    assert service.types()[-1] == "KpjConflictDetected"
    assert (service.last()["kpj_held"], service.last()["kpj_answered"]) == (
        "KPJ26000000001",
        "KPJ26000000999",
    )
    assert service.reads.counted[(PROGRAMME, "registration:KPJ_CONFLICT")] == 1


async def test_a_retryable_refusal_schedules_a_retry_the_clock_sends(service: Service) -> None:
    await service.consume(assigned(), rejected())
    assert service.types() == ["RegistrationRequested", "RegistrationRetryScheduled"]
    retry_at = datetime.fromisoformat(service.last()["retry_at"])
    service.reads.waiting["registrations"] = [(WORKER, PROGRAMME)]
    assert await run_deadlines(service.app, service.kit) == 0  # not due yet
    service.clock.at = retry_at
    assert await run_deadlines(service.app, service.kit) == 1
    assert service.types()[-1] == "RegistrationRequested" and service.last()["attempt"] == 2
    assert service.reads.counted[(PROGRAMME, "clock:registrations:retry")] == 1
    await service.consume(rejected(attempt=1))  # a refusal of the older attempt is stale
    assert service.types()[-1] == "RegistrationRequested"
    assert service.reads.counted[(PROGRAMME, "registration:STALE")] == 1


async def test_an_unanswered_attempt_times_out_and_a_final_refusal_fails(service: Service) -> None:
    await service.consume(assigned())
    service.reads.waiting["registrations"] = [(WORKER, PROGRAMME)]
    service.clock.at = T0 + CONFIG.answer_timeout
    assert await run_deadlines(service.app, service.kit) == 1
    timeout = service.last()
    assert (timeout["reason_code"], timeout["attempt"]) == ("TIMEOUT", 1)
    service.clock.at = datetime.fromisoformat(timeout["retry_at"])
    await run_deadlines(service.app, service.kit)
    await service.consume(rejected(attempt=2, retryable=False))
    assert service.types()[-1] == "EnrollmentFailed"
    assert (service.last()["reason_code"], service.last()["attempts"]) == ("NIK_NOT_FOUND", 2)


async def test_an_answer_to_a_registration_never_sent_is_refused(service: Service) -> None:
    with pytest.raises(LookupError, match="never sent"):
        await service.consume(accepted())


# --- releases ----------------------------------------------------------------------------------


async def test_a_release_ends_coverage_and_stops_the_payment(service: Service) -> None:
    await service.consume(assigned(), accepted())
    service.clock.at = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    await service.consume(released("died"), released("died"))
    assert service.types()[-2:] == ["CoverageEnded", "DeregistrationRequested"]
    ended, stop = (e.payload for e in service.store.events(STREAM)[-2:])
    assert (ended["ended_on"], ended["last_month_billable"], ended["reason"]) == (
        "2026-03-10",
        "2026-03",
        "died",
    )
    assert (stop["request_id"], stop["kpj"], stop["attempt"]) == (f"{REQUEST_ID}:stop", "KPJ26000000001", 1)
    assert service.reads.counted[(PROGRAMME, "release:END")] == 1
    assert service.reads.counted[(PROGRAMME, "release:NOTHING")] == 1
    service.reads.waiting["deregistrations"] = [(WORKER, PROGRAMME)]
    service.clock.at += CONFIG.answer_timeout
    assert await run_deadlines(service.app, service.kit) == 1  # unanswered: sent again
    assert service.last()["attempt"] == 2
    service.reads.stop_answers[f"{REQUEST_ID}:stop"] = True
    confirmation = DeregistrationConfirmed(
        request_id=f"{REQUEST_ID}:stop",
        attempt=2,
        worker_id=WORKER,
        kpj="KPJ26000000001",
        effective_on=date(2026, 3, 10),
    )
    await service.consume(confirmation, confirmation)
    assert service.reads.counted[(PROGRAMME, "deregistration:APPLIED")] == 1
    assert service.reads.counted[(PROGRAMME, "deregistration:DUPLICATE")] == 1


async def test_a_release_before_the_answer_cancels_and_a_late_acceptance_is_stopped(service: Service) -> None:
    await service.consume(assigned(), released("withdrawn"))
    assert service.types() == ["RegistrationRequested", "CoverageEnded"]
    assert service.last()["kpj"] is None and service.reads.counted[(PROGRAMME, "release:CANCEL")] == 1
    await service.consume(accepted())
    assert service.types()[-1] == "DeregistrationRequested"  # BPJS registered them anyway
    await service.consume(accepted())
    assert service.types()[-1] == "DeregistrationRequested" and len(service.types()) == 3


# --- premiums ----------------------------------------------------------------------------------


def billable(worker_id: str, kpj: str) -> BillableRegistration:
    return BillableRegistration(
        worker_id,
        Funder.APBD_PROVINSI,
        "12.17",
        kpj,
        "enrolled",
        date(2026, 1, 1),
        date(2026, 12, 31),
        date(2026, 1, 6),
        None,
    )


async def test_a_month_billed_is_paid_with_its_receipt_and_restores_a_lapse(service: Service) -> None:
    service.reads.registrations = [billable(WORKER, "KPJ1"), billable("w2", "KPJ2")]
    service.reads.lapsed = [WORKER]
    await service.consume(assigned(), accepted())
    (bill_id,) = await service.kit.transact(
        lambda tx: bill_month(service.app, tx, PROGRAMME, YearMonth(2026, 3))
    )
    assert bill_id == f"{PROGRAMME}/2026-03/12.17/1"
    assert service.types(bill_stream(bill_id)) == ["PremiumBilled", "PremiumPaymentRequested"]
    request = service.last(bill_stream(bill_id))
    assert (request["kpjs"], request["total"]) == (["KPJ1", "KPJ2"], 33_600)

    def confirmed(receipt: str) -> PremiumPaymentConfirmed:
        paid_at = datetime(2026, 2, 25, 20, 0, tzinfo=UTC)
        return PremiumPaymentConfirmed(
            payment_request_id=bill_id,
            attempt=1,
            payment_ref=receipt,
            paid_at=paid_at,
            participants=2,
            total=33_600,
        )

    await service.consume(confirmed("BPJS-PAY-1"))
    paid = service.last(bill_stream(bill_id))
    assert (paid["payment_ref"], paid["paid_on"], paid["worker_ids"]) == (
        "BPJS-PAY-1",
        "2026-02-26",
        [WORKER, "w2"],
    )
    assert service.types()[-1] == "CoverageRestored"
    assert service.last()["month_paid"] == "2026-03"
    await service.consume(confirmed("BPJS-PAY-1"), confirmed("BPJS-PAY-2"))
    assert service.types(bill_stream(bill_id))[-1] == "PremiumPaid"  # the first receipt stands
    assert service.reads.counted[(PROGRAMME, "payment:DUPLICATE")] == 1
    assert service.reads.counted[(PROGRAMME, "payment:TWO_RECEIPTS")] == 1


async def test_a_payment_left_unanswered_times_out_then_is_sent_again(service: Service) -> None:
    service.reads.registrations = [billable(WORKER, "KPJ1")]
    (bill_id,) = await service.kit.transact(
        lambda tx: bill_month(service.app, tx, PROGRAMME, YearMonth(2026, 3))
    )
    service.reads.waiting["bills"] = [(bill_id,)]
    service.clock.at = T0 + CONFIG.answer_timeout
    assert await run_deadlines(service.app, service.kit) == 1
    assert service.types(bill_stream(bill_id))[-1] == "PremiumPaymentRetryScheduled"
    service.clock.at = datetime.fromisoformat(service.last(bill_stream(bill_id))["retry_at"])
    assert await run_deadlines(service.app, service.kit) == 1
    assert service.last(bill_stream(bill_id))["attempt"] == 2


# --- lapses ------------------------------------------------------------------------------------


async def test_an_unpaid_month_lapses_and_too_many_end_the_membership(service: Service) -> None:
    await service.consume(assigned(), accepted())
    enrolled = Enrollment(date(2026, 1, 6), date(2026, 1, 1), date(2026, 12, 31))
    january = PremiumPayment(YearMonth(2026, 1), date(2026, 1, 6))
    service.reads.ledgers = {(WORKER, PROGRAMME): CoverageLedger.from_facts([enrolled, january])}
    service.clock.at = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    assert await run_lapses(service.app, service.kit) == 1
    lapse = service.last()
    assert (service.types()[-1], lapse["month_unpaid"], lapse["lapsed_on"]) == (
        "CoverageLapsed",
        "2026-02",
        "2026-01-31",
    )
    service.clock.at = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)  # February to May unpaid: a 4th month
    assert await run_lapses(service.app, service.kit) == 1
    assert service.types()[-3:] == ["MembershipEnded", "CoverageEnded", "DeregistrationRequested"]
    assert await run_lapses(service.app, service.kit) == 0  # the stream has ended: nothing again
