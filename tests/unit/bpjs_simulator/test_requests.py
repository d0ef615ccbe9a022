"""The insurer's decisions over a batch, pure: no store, no port. A later request of a batch sees
what an earlier one decided (the ledger is evolved between them)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    RegistrationAccepted,
    RegistrationRejected,
)
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.domain.ledger import (
    Issued,
    LatestPayer,
    Ledger,
    NewPayer,
    PayerAdded,
    PayerStopped,
)
from services.bpjs_simulator.domain.requests import Context, Request, decide, decide_batch
from tests.unit.bpjs_simulator.test_handlers import deregistration, payment, registration

CALM = InsurerBehaviour(seed=7, nik_not_found_per_million=0, age_min=15, age_max=65)
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
CONTEXT = Context(CALM, NOW)


def answers(ledger: Ledger, *requests: Any) -> list[Any]:
    return [d.answer for d in decide_batch(list(requests), ledger, CONTEXT)]


def test_the_same_new_person_twice_in_a_batch_keeps_one_kpj_and_one_payer_at_a_time() -> None:
    ledger = Ledger(fresh_kpjs=["KPJ26000000001"])
    first, overlap, later = answers(
        ledger,
        registration("R1"),
        registration("R2", programme_code="LABUHANBATU-2026"),
        registration(
            "R3",
            programme_code="SUMUT-2027",
            coverage_start=date(2027, 1, 1),
            coverage_end=date(2027, 12, 31),
        ),
    )
    assert isinstance(first, RegistrationAccepted) and first.kpj == "KPJ26000000001"
    assert isinstance(overlap, RegistrationRejected) and overlap.reason_code == "ALREADY_REGISTERED"
    assert isinstance(later, RegistrationAccepted)
    assert (later.kpj, later.continued) == ("KPJ26000000001", True)
    assert ledger.fresh_kpjs == [] and ledger.wanted_kpjs == 0


def test_a_trial_on_a_copy_counts_the_numbers_a_batch_takes() -> None:
    ledger = Ledger()
    requests: list[Request] = [registration("R1"), registration("R2"), payment("P1", ["KPJ-X"])]
    trial = copy.deepcopy(ledger)
    decide_batch(requests, trial, CONTEXT)
    assert (trial.wanted_kpjs, trial.wanted_receipts) == (1, 0)  # R2 is the same person; P1 unknown
    assert ledger == Ledger()


def test_a_stop_then_a_payment_in_one_batch_is_refused_for_the_months_after() -> None:
    kpj = "KPJ19000000001"
    payer = NewPayer("R0", "N1", kpj, "w1", "SUMUT-2026", date(2026, 1, 1), date(2026, 12, 31), NOW, False)
    ledger = Ledger(receipts=[41])
    ledger.apply(Issued("N1", kpj, NOW, LatestPayer("w1", "SUMUT-2026", date(2026, 12, 31))))
    ledger.apply(PayerAdded(payer))
    stopped, january, february = answers(
        ledger,
        deregistration(kpj, date(2026, 1, 31)),
        payment("P1", [kpj]),
        payment("P2", [kpj], month="2026-02"),
    )
    assert isinstance(stopped, DeregistrationConfirmed)
    assert isinstance(january, PremiumPaymentConfirmed) and january.payment_ref == "BPJS-PAY-0000000041"
    assert isinstance(february, PremiumPaymentRejected) and february.reason_code == "NOT_ACTIVE"
    assert ledger.paid == {kpj: {"2026-01"}}


def test_stops_keep_the_earliest_day_and_the_first_reason() -> None:
    payer = NewPayer("R0", "N1", "K", "w1", "SUMUT-2026", date(2026, 1, 1), date(2026, 12, 31), NOW, False)
    ledger = Ledger().apply(PayerAdded(payer))
    ledger.apply(PayerStopped("K", "SUMUT-2026", date(2026, 5, 31), "died"))
    ledger.apply(PayerStopped("K", "SUMUT-2026", date(2026, 3, 31), "withdrawn"))
    ledger.apply(PayerStopped("K", "OTHER", date(2026, 1, 31), "withdrawn"))
    [row] = ledger.payers["K"]
    assert (row.ended_on, row.end_reason) == (date(2026, 3, 31), "died")


def test_an_attempt_answered_already_is_not_answered_again() -> None:
    ledger = Ledger(answered={("registration", "R1", 1)})
    decided = decide(registration("R1"), ledger, CONTEXT)
    assert decided.answer is None and decided.facts == ()
