"""The simulator's handlers on the in-memory store: requests decided once per attempt, a batch at
a time, answers sent with the batch (no delay) or held and sent on their streams when due, with
what the insurer remembers faked (FakeBook)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka.structs import ConsumerRecord

from libs.events.catalog import decode
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    DeregistrationRequested,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import StreamKit
from libs.eventstore.memory import InMemoryStore
from libs.messaging.consumer import Consumed
from services.bpjs_simulator.application.handlers import InsurerHandler
from services.bpjs_simulator.application.release import release_due
from services.bpjs_simulator.domain.answers import SendAnswer, answer_decider
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from tests.support.envelopes import envelope_of
from tests.unit.bpjs_simulator.fake_book import FakeBook

CALM = InsurerBehaviour(seed=7, nik_not_found_per_million=0, age_min=15, age_max=65)
NIK = "1217054507880001"
WALL = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


class Insurer:
    """The simulator's handler over an in-memory store, on a business day and a wall clock."""

    def __init__(self, behaviour: InsurerBehaviour = CALM) -> None:
        self.store = InMemoryStore("bpjs_simulator")
        self.book = FakeBook()
        self.business = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
        self.wall = WALL
        self.outage = False
        self.handler = InsurerHandler(
            behaviour,
            lambda tx: self.book,
            now=lambda: self.business,
            real_now=lambda: self.wall,
            answering=lambda: not self.outage,
        )
        self.kit = StreamKit(self.store)
        self.requests: list[Envelope] = []

    def consume(self, *events: DomainEvent) -> None:
        """Each request consumed in a batch (and transaction) of its own."""
        for event in events:
            self.consume_batch(event)

    def consume_batch(self, *events: DomainEvent) -> None:
        """The requests consumed in one batch (and transaction)."""
        items = []
        for event in events:
            envelope = envelope_of(event, "enrollment", "request")
            self.requests.append(envelope)
            record = ConsumerRecord("topic", 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
            items.append(Consumed(record, envelope, event, envelope))
        asyncio.run(self._react(items))

    async def _react(self, items: list[Consumed]) -> None:
        async with self.store.transaction() as tx:
            await self.handler.react(tx, items)

    def release(self, after: timedelta = timedelta(0)) -> int:
        """Send what is due by the wall clock plus `after`."""
        return asyncio.run(release_due(self.kit, lambda tx: self.book, clock=lambda: self.wall + after))

    def answers(self, stream: str) -> list[DomainEvent]:
        return [decode(e) for e in self.store.events(stream)]


def registration(request_id: str = "R1", *, attempt: int = 1, **changes: Any) -> RegistrationRequested:
    fields: dict[str, Any] = {
        "request_id": request_id,
        "attempt": attempt,
        "worker_id": "w1",
        "programme_code": "SUMUT-2026",
        "identity": {"nik": NIK, "full_name": "Ani", "birth_date": "1988-07-05", "sex": "P"},
        "funder": "APBD_PROVINSI",
        "regency_code": "12.17",
        "sector": "sawit",
        "coverage_start": date(2026, 1, 1),
        "coverage_end": date(2026, 12, 31),
    }
    return RegistrationRequested.model_validate(fields | changes)


def payment(
    request_id: str, kpjs: list[str], month: str = "2026-01", **changes: Any
) -> PremiumPaymentRequested:
    n = len(kpjs)
    fields: dict[str, Any] = {
        "payment_request_id": request_id,
        "attempt": 1,
        "programme_code": "SUMUT-2026",
        "month": month,
        "funder": "APBD_PROVINSI",
        "regency_code": "12.17",
        "kpjs": kpjs,
        "participants": n,
        "jkk_per_participant": 10_000,
        "jkm_per_participant": 6_800,
        "jkk_total": n * 10_000,
        "jkm_total": n * 6_800,
        "total": n * 16_800,
    }
    return PremiumPaymentRequested.model_validate(fields | changes)


def deregistration(kpj: str, last_day: date = date(2026, 1, 31)) -> DeregistrationRequested:
    return DeregistrationRequested(
        request_id="D1",
        attempt=1,
        worker_id="w1",
        programme_code="SUMUT-2026",
        kpj=kpj,
        funder="APBD_PROVINSI",
        regency_code="12.17",
        last_covered_day=last_day,
        reason="withdrawn",
    )


def accepted(insurer: Insurer, request_id: str = "R1") -> RegistrationAccepted:
    insurer.release()
    answer = insurer.answers(f"bpjs-registration-{request_id}")[-1]
    assert isinstance(answer, RegistrationAccepted)
    return answer


def test_a_registration_is_accepted_with_a_new_kpj_and_sent_in_the_requests_flow() -> None:
    insurer = Insurer()
    insurer.consume(registration())
    assert insurer.book.held == []  # no delay: sent with the batch, not held
    assert insurer.release() == 0
    [answer] = insurer.answers("bpjs-registration-R1")
    assert isinstance(answer, RegistrationAccepted)
    assert (answer.kpj, answer.registered_at, answer.continued) == ("KPJ26000000001", insurer.business, False)
    [sent] = insurer.store.events("bpjs-registration-R1")
    request = insurer.requests[0]
    assert (sent.correlation_id, sent.causation_id) == (request.correlation_id, request.event_id)
    assert [m.topic for m in insurer.store.outbox] == ["lindung.bpjs.results.v1"]
    assert insurer.book.answers == {("registration", "R1", 1): ("accepted", None)}


def test_a_person_too_old_is_refused() -> None:
    insurer = Insurer()
    insurer.consume(
        registration(identity={"nik": NIK, "full_name": "Ani", "birth_date": "1950-01-01", "sex": "P"})
    )
    insurer.release()
    [answer] = insurer.answers("bpjs-registration-R1")
    assert isinstance(answer, RegistrationRejected)
    assert (answer.reason_code, answer.retryable) == ("AGE_OUT_OF_RANGE", False)
    assert insurer.book.payers == []


def test_dukcapil_unreachable_is_a_retryable_refusal_of_that_attempt() -> None:
    insurer = Insurer(replace(CALM, transient_error_per_million=1_000_000))
    insurer.consume(registration())
    insurer.release()
    [answer] = insurer.answers("bpjs-registration-R1")
    assert isinstance(answer, RegistrationRejected)
    assert (answer.reason_code, answer.retryable) == ("DUKCAPIL_UNAVAILABLE", True)


def test_an_attempt_delivered_twice_is_answered_once_and_a_resent_request_gets_the_same_kpj() -> None:
    insurer = Insurer()
    insurer.consume(registration(), registration())
    first = accepted(insurer)
    assert len(insurer.answers("bpjs-registration-R1")) == 1
    insurer.business += timedelta(days=1)
    insurer.consume(registration(attempt=2))
    again = accepted(insurer)
    assert (again.attempt, again.kpj, again.registered_at) == (2, first.kpj, first.registered_at)
    assert len(insurer.book.payers) == 1


def test_a_late_answer_is_held_longer_and_sent_when_due() -> None:
    insurer = Insurer(replace(CALM, late_per_million=1_000_000, late_delay_ms=2_000))
    insurer.consume(registration())
    [held] = insurer.book.held
    assert (held.answer.late, held.answer.due_at) == (True, WALL + timedelta(seconds=2))
    assert insurer.release(timedelta(seconds=1)) == 0
    assert insurer.release(timedelta(seconds=2)) == 1
    assert len(insurer.answers("bpjs-registration-R1")) == 1


def test_a_repeated_answer_is_sent_twice_on_its_stream() -> None:
    insurer = Insurer(replace(CALM, duplicate_per_million=1_000_000, max_delay_ms=100))
    insurer.consume(registration())
    assert [h.answer.copy for h in insurer.book.held] == [1, 2]
    insurer.release(timedelta(seconds=1))
    assert [e.aggregate_version for e in insurer.store.events("bpjs-registration-R1")] == [1, 2]


def test_a_payment_is_booked_once_a_month() -> None:
    insurer = Insurer()
    insurer.consume(registration())
    kpj = accepted(insurer).kpj
    insurer.consume(payment("P1", [kpj]), payment("P2", [kpj]))
    insurer.release()
    [confirmed] = insurer.answers("bpjs-payment-P1")
    assert isinstance(confirmed, PremiumPaymentConfirmed)
    assert (confirmed.payment_ref, confirmed.total, confirmed.paid_at) == (
        "BPJS-PAY-0000000001",
        16_800,
        insurer.business,
    )
    [refused] = insurer.answers("bpjs-payment-P2")
    assert isinstance(refused, PremiumPaymentRejected)
    assert (refused.reason_code, refused.kpjs) == ("ALREADY_PAID", [kpj])


def test_a_payment_of_the_wrong_amount_is_refused_in_the_same_words() -> None:
    insurer = Insurer()
    insurer.consume(registration())
    kpj = accepted(insurer).kpj
    insurer.consume(payment("P1", [kpj], total=16_000))
    insurer.release()
    [refused] = insurer.answers("bpjs-payment-P1")
    assert isinstance(refused, PremiumPaymentRejected)
    assert refused.reason == "Jumlah iuran tidak sesuai: 1 peserta x Rp16.800 = Rp16.800. diterima Rp16.000."


def test_a_deregistration_stops_the_payer_and_its_later_months_are_refused() -> None:
    insurer = Insurer()
    insurer.consume(registration())
    kpj = accepted(insurer).kpj
    insurer.consume(deregistration(kpj), payment("P2", [kpj], month="2026-02"))
    insurer.release()
    [stopped] = insurer.answers("bpjs-deregistration-D1")
    assert isinstance(stopped, DeregistrationConfirmed)
    assert stopped.effective_on == date(2026, 1, 31)
    [refused] = insurer.answers("bpjs-payment-P2")
    assert isinstance(refused, PremiumPaymentRejected) and refused.reason_code == "NOT_ACTIVE"


def test_a_deregistration_of_a_kpj_nobody_holds_is_refused() -> None:
    insurer = Insurer()
    insurer.consume(deregistration("KPJ00000000000"))
    insurer.release()
    [refused] = insurer.answers("bpjs-deregistration-D1")
    assert isinstance(refused, DeregistrationRejected)
    assert (refused.reason_code, refused.reason) == (
        "UNKNOWN_PARTICIPANT",
        "KPJ KPJ00000000000 tidak terdaftar di BPJS Ketenagakerjaan.",
    )


def test_the_answer_stream_sends_each_answer_and_counts_them() -> None:
    answers = answer_decider()
    answer = DeregistrationConfirmed(
        request_id="D1", attempt=1, worker_id="w1", kpj="K", effective_on=date(2026, 1, 31)
    )
    command = SendAnswer("bpjs-deregistration-D1", answer, uuid.uuid4())
    assert answers.stream_of(command) == "bpjs-deregistration-D1"
    assert list(answers.decide(command, 0)) == [answer]
    sent = Recorded(answer, envelope_of(answer, "bpjs_simulator", "bpjs-deregistration-D1"))
    assert answers.fold([sent, sent]) == 2


def person(i: int, request_id: str | None = None, **changes: Any) -> RegistrationRequested:
    nik = f"12170545078{i:05d}"
    identity = {"nik": nik, "full_name": "Ani", "birth_date": "1988-07-05", "sex": "P"}
    return registration(request_id or f"R{i}", worker_id=f"w{i}", identity=identity, **changes)


def sent(insurer: Insurer) -> list[tuple[str, dict[str, Any]]]:
    return [(e.aggregate_id, e.payload) for e in insurer.store.log]


def test_a_batch_is_decided_on_one_read_and_answers_as_one_by_one() -> None:
    chaos = replace(CALM, nik_not_found_per_million=300_000, transient_error_per_million=100_000)
    requests: list[DomainEvent] = [person(i) for i in range(12)]
    # The same person again under another programme, and one attempt delivered twice.
    requests += [person(3, "R3-B", programme_code="LABUHANBATU-2026"), person(5)]
    one_by_one, batched = Insurer(chaos), Insurer(chaos)
    one_by_one.consume(*requests)
    batched.consume_batch(*requests)
    assert batched.book.reads == 1 and one_by_one.book.reads == len(requests)
    assert sent(batched) == sent(one_by_one)
    assert batched.book.answers == one_by_one.book.answers
    assert batched.book.payers == one_by_one.book.payers
    kpjs = [p["kpj"] for _, p in sent(batched) if "kpj" in p]
    assert kpjs == [f"KPJ{26_000_000_001 + i:011d}" for i in range(len(set(kpjs)))]  # no gaps


def test_new_kpjs_pass_over_those_preloaded() -> None:
    insurer = Insurer()
    insurer.book.preload("1217054507800000", "KPJ26000000001")
    insurer.consume_batch(person(1), person(2))
    assert [p["kpj"] for _, p in sent(insurer)] == ["KPJ26000000002", "KPJ26000000003"]


def test_answers_due_at_once_are_held_during_an_outage_and_sent_after() -> None:
    insurer = Insurer()
    insurer.outage = True
    insurer.consume(registration())
    assert insurer.store.log == [] and len(insurer.book.held) == 1
    assert insurer.release() == 1
    assert isinstance(insurer.answers("bpjs-registration-R1")[0], RegistrationAccepted)


def test_a_delayed_answer_is_held_and_one_due_at_once_is_sent_with_its_batch() -> None:
    insurer = Insurer(replace(CALM, max_delay_ms=5))
    insurer.consume_batch(*[person(i) for i in range(8)])
    held = {h.answer.stream for h in insurer.book.held}
    at_once = {stream for stream, _ in sent(insurer)}
    assert held and at_once and not held & at_once and len(held | at_once) == 8
    insurer.release(timedelta(seconds=1))
    assert {stream for stream, _ in sent(insurer)} == held | at_once
