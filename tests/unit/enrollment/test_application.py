"""Enrollment's deciders and read side without a database: streams folded back into their state,
the events each decision records, coverage answers with their proofs, configuration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from libs.events import Envelope
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import (
    EnrolledAtBPJS,
    EnrollmentFailed,
    KpjConflictDetected,
    PremiumBilled,
    PremiumPaid,
    PremiumPaymentFailed,
    PremiumPaymentRetryScheduled,
    RegistrationRetryScheduled,
)
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import Origin
from libs.settings import Settings
from services.enrollment.application.config import config_from
from services.enrollment.application.coverage import answer_for, ledgers_from
from services.enrollment.domain import premium_payment, registration
from services.enrollment.domain.bpjs_request import Outcome, RequestStatus, timeout_refusal
from services.enrollment.domain.settings_defaults import (
    COVERAGE_POLICY_DEFAULTS,
    PREMIUM_RATES_DEFAULTS,
    REGISTRATION_RETRY_DEFAULTS,
)
from tests.support.envelopes import envelope_of

CONFIG = config_from(Settings(_env_file=None))
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
WORKER = "7d1c2b9e-0000-4000-8000-000000000001"
PROGRAMME = "SUMUT-2026"
REGISTRATION = registration.Registrations(CONFIG.requests, CONFIG.local_date).decider()
PAYMENTS = premium_payment.Payments(CONFIG.requests, CONFIG.local_date)
BILL_STREAM = PAYMENTS.decider()


def env(event: DomainEvent, version: int, at: datetime, stream: str = "s") -> Envelope:
    return envelope_of(
        event, "enrollment", stream, version=version, occurred_at=at, correlation_id=uuid.UUID(int=1)
    )


def requested(attempt: int) -> RegistrationRequested:
    return RegistrationRequested(
        request_id=f"{WORKER}:{PROGRAMME}",
        attempt=attempt,
        worker_id=WORKER,
        programme_code=PROGRAMME,
        identity=WorkerIdentity(
            nik="1217054507880001", full_name="Rosmawati", birth_date="1988-07-05", sex="P"
        ),
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        sector="non_sawit",
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
    )


def retry_scheduled(attempt: int, at: datetime) -> RegistrationRetryScheduled:
    return RegistrationRetryScheduled(
        worker_id=WORKER,
        programme_code=PROGRAMME,
        request_id=f"{WORKER}:{PROGRAMME}",
        attempt=attempt,
        reason_code="TIMEOUT",
        reason="BPJS tidak menjawab",
        retry_at=at,
    )


def test_config_defaults_are_the_domain_defaults() -> None:
    assert CONFIG.retry == REGISTRATION_RETRY_DEFAULTS
    assert CONFIG.coverage == COVERAGE_POLICY_DEFAULTS
    assert CONFIG.default_rates == PREMIUM_RATES_DEFAULTS
    assert CONFIG.local_date(datetime(2026, 1, 5, 17, 0, tzinfo=UTC)) == date(2026, 1, 6)  # 00:00 WIB
    assert CONFIG.local_date(datetime(2026, 1, 5, 16, 59, tzinfo=UTC)) == date(2026, 1, 5)


def rec(event: DomainEvent, version: int, at: datetime) -> Recorded:
    return Recorded(event, env(event, version, at))


def test_a_registration_stream_folds_into_the_domain_state() -> None:
    history = [
        rec(requested(1), 1, T0),
        rec(retry_scheduled(1, T0 + timedelta(minutes=6)), 2, T0 + timedelta(minutes=5)),
        rec(requested(2), 3, T0 + timedelta(minutes=6)),
    ]
    state = REGISTRATION.fold(history)
    assert state.request is not None
    assert (state.request.status, state.request.attempt, state.request.retry_at) == (
        RequestStatus.WAITING,
        2,
        None,
    )
    assert (state.request.sent_at, state.last_sent_id) == (
        T0 + timedelta(minutes=6),
        history[2].envelope.event_id,
    )
    scheduled = REGISTRATION.fold(history[:2])
    assert scheduled.request is not None and scheduled.request.retry_at == T0 + timedelta(minutes=6)
    assert REGISTRATION.fold([]).request is None


def accepted(attempt: int, kpj: str, at: datetime = T0) -> RegistrationAccepted:
    return RegistrationAccepted(
        request_id=f"{WORKER}:{PROGRAMME}", attempt=attempt, worker_id=WORKER, kpj=kpj, registered_at=at
    )


def rejected(attempt: int, code: str, reason: str, retryable: bool) -> RegistrationRejected:
    return RegistrationRejected(
        request_id=f"{WORKER}:{PROGRAMME}",
        attempt=attempt,
        worker_id=WORKER,
        reason_code=code,
        reason=reason,
        retryable=retryable,
    )


def decide(history: list[Recorded], answer: RegistrationAccepted | RegistrationRejected) -> list[DomainEvent]:
    command = registration.ApplyAnswer(answer, T0 + timedelta(minutes=10), 1.0, Origin.new())
    return list(REGISTRATION.decide(command, REGISTRATION.fold(history)))


def test_answers_become_the_events_the_rules_call_for() -> None:
    h = [rec(requested(1), 1, T0)]
    (enrolled,) = decide(h, accepted(1, "KPJ26000000001", datetime(2026, 1, 5, 18, 0, tzinfo=UTC)))
    assert isinstance(enrolled, EnrolledAtBPJS)
    assert (enrolled.kpj, enrolled.enrolled_on, enrolled.attempt) == ("KPJ26000000001", date(2026, 1, 6), 1)
    assert enrolled.coverage_start == date(2026, 1, 1)  # the programme's period; coverage needs premiums
    (retry,) = decide(h, rejected(1, "DUKCAPIL_UNAVAILABLE", "coba lagi", retryable=True))
    assert isinstance(retry, RegistrationRetryScheduled)
    assert retry.retry_at == T0 + timedelta(minutes=10, seconds=60)  # base 60 s, jitter 1
    (failed,) = decide(h, rejected(1, "NIK_NOT_FOUND", "NIK tidak ditemukan", retryable=False))
    assert isinstance(failed, EnrollmentFailed) and (failed.reason_code, failed.attempts) == (
        "NIK_NOT_FOUND",
        1,
    )
    assert decide(h, rejected(2, "NIK_NOT_FOUND", "x", retryable=False)) == []  # unknown attempt


def test_a_second_kpj_for_an_enrolled_worker_is_reported_not_applied() -> None:
    enrolled = EnrolledAtBPJS(
        worker_id=WORKER,
        programme_code=PROGRAMME,
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        kpj="KPJ1",
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        request_id=f"{WORKER}:{PROGRAMME}",
    )
    h = [rec(requested(1), 1, T0), rec(enrolled, 2, T0)]
    state = REGISTRATION.fold(h)
    assert state.request is not None and state.request.status is RequestStatus.ANSWERED
    assert decide(h, accepted(1, "KPJ1")) == []
    (conflict,) = decide(h, accepted(1, "KPJ2"))
    assert isinstance(conflict, KpjConflictDetected) and (conflict.kpj_held, conflict.kpj_answered) == (
        "KPJ1",
        "KPJ2",
    )


def test_an_unanswered_attempt_is_a_retryable_timeout() -> None:
    result = timeout_refusal(3, CONFIG.answer_timeout)
    assert (result.attempt, result.reason_code, result.retryable) == (3, "TIMEOUT", True)
    assert "300 detik" in result.reason


BILL = "SUMUT-2026/2026-03/12.17/1"


def billed() -> PremiumBilled:
    return PremiumBilled(
        bill_id=BILL,
        programme_code=PROGRAMME,
        month="2026-03",
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        workers=2,
        jkk_per_worker=10_000,
        jkm_per_worker=6_800,
        jkk_total=20_000,
        jkm_total=13_600,
        total=33_600,
        worker_ids=["w1", "w2"],
        billed_on=date(2026, 2, 25),
    )


def pay_request(attempt: int) -> PremiumPaymentRequested:
    return PremiumPaymentRequested(
        payment_request_id=BILL,
        attempt=attempt,
        programme_code=PROGRAMME,
        month="2026-03",
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        kpjs=["KPJ1", "KPJ2"],
        participants=2,
        jkk_per_participant=10_000,
        jkm_per_participant=6_800,
        jkk_total=20_000,
        jkm_total=13_600,
        total=33_600,
    )


def confirmed(
    attempt: int, receipt: str, participants: int = 2, total: int = 33_600
) -> PremiumPaymentConfirmed:
    return PremiumPaymentConfirmed(
        payment_request_id=BILL,
        attempt=attempt,
        payment_ref=receipt,
        participants=participants,
        total=total,
        paid_at=datetime(2026, 2, 26, 3, 0, tzinfo=UTC),
    )


def payment_rejected(attempt: int, code: str, reason: str, retryable: bool) -> PremiumPaymentRejected:
    return PremiumPaymentRejected(
        payment_request_id=BILL, attempt=attempt, reason_code=code, reason=reason, retryable=retryable
    )


def test_a_bill_stream_folds_and_its_answers_become_payments_or_failures() -> None:
    history = [rec(billed(), 1, T0), rec(pay_request(1), 2, T0)]
    state = BILL_STREAM.fold(history)
    assert state.request is not None and state.request.attempt == 1 and not state.paid

    def decide_bill(answer: PremiumPaymentConfirmed | PremiumPaymentRejected) -> list[DomainEvent]:
        command = premium_payment.ApplyPayment(answer, T0, 0.0, Origin.new())
        return list(BILL_STREAM.decide(command, state))

    (paid,) = decide_bill(confirmed(1, "BPJS-PAY-0000000001"))
    assert isinstance(paid, PremiumPaid)
    assert (paid.workers, paid.total, paid.worker_ids, paid.paid_on) == (
        2,
        33_600,
        ["w1", "w2"],
        date(2026, 2, 26),
    )
    assert (paid.bill_id, paid.payment_ref) == (BILL, "BPJS-PAY-0000000001")
    (retry,) = decide_bill(payment_rejected(1, "SERVICE_UNAVAILABLE", "coba lagi", retryable=True))
    assert isinstance(retry, PremiumPaymentRetryScheduled) and retry.retry_at == T0 + timedelta(seconds=30)
    (failed,) = decide_bill(payment_rejected(1, "ALREADY_PAID", "sudah dibayar", retryable=False))
    assert isinstance(failed, PremiumPaymentFailed) and (failed.reason_code, failed.workers) == (
        "ALREADY_PAID",
        2,
    )
    with pytest.raises(ValueError, match="confirmed 3 participants"):
        decide_bill(confirmed(1, "BPJS-PAY-0000000001", participants=3))

    done = BILL_STREAM.fold([*history, rec(paid, 3, T0)])
    assert done.paid and done.receipt == "BPJS-PAY-0000000001"
    judged = PAYMENTS.judge_answer(
        premium_payment.ApplyPayment(confirmed(1, "OTHER"), T0, 0.0, Origin.new()), done
    )
    assert judged == (Outcome.CONFLICT, [])  # a second receipt: counted as TWO_RECEIPTS, no event
    assert premium_payment.outcome_name(judged[0]) == "TWO_RECEIPTS"


@dataclass
class Fact:
    worker_id: str
    programme_code: str
    kind: str
    day: date
    event_id: uuid.UUID
    event_type: str
    month: str | None = None
    ended_on: date | None = None
    coverage_start: date | None = None
    coverage_end: date | None = None


def facts() -> tuple[list[Fact], dict[str, uuid.UUID]]:
    ids = {name: uuid.uuid4() for name in ("enrolled", "jan", "feb", "lapse", "mar")}
    rows = [
        Fact(WORKER, PROGRAMME, "enrolled", date(2026, 1, 10), ids["enrolled"], "EnrolledAtBPJS",
             coverage_start=date(2026, 1, 1), coverage_end=date(2026, 12, 31)),
        Fact(WORKER, PROGRAMME, "paid", date(2026, 1, 10), ids["jan"], "PremiumPaid", month="2026-01"),
        Fact(WORKER, PROGRAMME, "paid", date(2026, 1, 10), ids["feb"], "PremiumPaid", month="2026-02"),
        Fact(WORKER, PROGRAMME, "lapsed", date(2026, 3, 1), ids["lapse"], "CoverageLapsed", month="2026-03",
             ended_on=date(2026, 2, 28)),
        Fact(WORKER, PROGRAMME, "paid", date(2026, 3, 20), ids["mar"], "PremiumPaid", month="2026-03"),
    ]  # fmt: skip
    return rows, ids


def proof_ids(answer: dict[str, Any]) -> list[str]:
    return [p["event_id"] for p in answer["proof"]]


@pytest.mark.parametrize(
    ("day", "known_at", "covered", "reason", "proved_by"),
    [
        ("2026-01-09", None, False, "BEFORE_COVERAGE_START", ["enrolled"]),
        ("2026-01-10", None, True, "PREMIUM_PAID", ["enrolled", "jan"]),
        ("2026-02-28", None, True, "PREMIUM_PAID", ["enrolled", "feb"]),
        ("2026-03-05", None, True, "PREMIUM_PAID", ["enrolled", "mar"]),
        ("2026-03-05", "2026-03-05", False, "PREMIUM_UNPAID", ["enrolled", "feb", "lapse"]),
        ("2026-04-01", None, False, "PREMIUM_UNPAID", ["enrolled", "mar"]),
        ("2027-01-01", None, False, "AFTER_COVERAGE_END", ["enrolled"]),
    ],
)
def test_coverage_answers_name_the_events_that_prove_them(
    day: str, known_at: str | None, covered: bool, reason: str, proved_by: list[str]
) -> None:
    rows, ids = facts()
    (pc,) = ledgers_from(rows).values()
    answer = answer_for(
        pc, date.fromisoformat(day), CONFIG.coverage, date.fromisoformat(known_at) if known_at else None
    )
    assert (answer["covered"], answer["reason"]) == (covered, reason)
    assert proof_ids(answer) == [str(ids[name]) for name in proved_by]
