"""Continuing participants: one KPJ per person, one payer at a time, stops and lapsed memberships."""

from __future__ import annotations

from datetime import date

from services.bpjs_simulator.domain.insurer import (
    Continuation,
    InsurerBehaviour,
    Payer,
    Refusal,
    decide_registration,
    membership_end,
)
from services.bpjs_simulator.domain.payments import payment_stopped

CALM = InsurerBehaviour(seed=7, nik_not_found_per_million=0, age_min=15, age_max=65)
NIK = "1217054507880001"
KPJ = "KPJ19000000123"
BIRTH = date(1988, 7, 5)
Y2024 = (date(2024, 1, 1), date(2024, 12, 31))
Y2025 = (date(2025, 1, 1), date(2025, 12, 31))


def sumut_2024(**changes: object) -> Payer:
    fields: dict[str, object] = {
        "programme_code": "SUMUT-2024",
        "first_day": date(2024, 2, 3),
        "coverage_end": date(2024, 12, 31),
        "paid_months": frozenset(f"2024-{m:02d}" for m in range(2, 13)),
    }
    return Payer(**(fields | changes))  # type: ignore[arg-type]


def decide(
    *,
    period: tuple[date, date] = Y2025,
    nik_kpj: str | None = KPJ,
    stated_kpj: str | None = None,
    stated_kpj_known: bool = False,
    payers: list[Payer] | None = None,
    today: date = date(2025, 1, 6),
    birth: date = BIRTH,
    behaviour: InsurerBehaviour = CALM,
    attempt: int = 1,
) -> Refusal | Continuation | None:
    return decide_registration(
        nik=NIK,
        birth_date=birth,
        coverage_start=period[0],
        coverage_end=period[1],
        stated_kpj=stated_kpj,
        nik_kpj=nik_kpj,
        stated_kpj_known=stated_kpj_known,
        payers=payers or [],
        today=today,
        behaviour=behaviour,
        attempt=attempt,
    )


def code(decision: Refusal | Continuation | None) -> str | None:
    assert isinstance(decision, Refusal), decision
    return decision.code


def test_a_person_bpjs_does_not_know_is_registered_new() -> None:
    assert decide(nik_kpj=None) is None


def test_sumut_2024_then_sumut_2025_keeps_one_kpj() -> None:
    assert decide(payers=[sumut_2024()]) == Continuation(KPJ)
    # Re-registered later in 2025 too: 2024's payer ended with its period.
    assert decide(payers=[sumut_2024()], today=date(2025, 6, 1)) == Continuation(KPJ)


def test_a_participant_known_from_before_lindung_is_continued_with_or_without_the_kpj_stated() -> None:
    assert decide(payers=[]) == Continuation(KPJ)
    assert decide(payers=[], stated_kpj=KPJ, stated_kpj_known=True) == Continuation(KPJ)


def test_a_second_payer_for_overlapping_months_is_refused_naming_the_active_one() -> None:
    paying = Payer("APBD-LABUHANBATU-2025", date(2025, 1, 6), date(2025, 12, 31))
    refusal = decide(payers=[paying], period=(date(2025, 7, 1), date(2026, 6, 30)))
    assert isinstance(refusal, Refusal)
    assert refusal.code == "ALREADY_REGISTERED" and not refusal.retryable
    assert "APBD-LABUHANBATU-2025" in refusal.message and "2025-12-31" in refusal.message


def test_periods_that_only_touch_do_not_overlap() -> None:
    paying = Payer("A-2025H1", date(2025, 1, 1), date(2025, 6, 30))
    assert decide(payers=[paying], period=(date(2025, 7, 1), date(2025, 12, 31))) == Continuation(KPJ)
    assert code(decide(payers=[paying], period=(date(2025, 6, 30), date(2025, 12, 31)))) == (
        "ALREADY_REGISTERED"
    )


def test_a_deregistered_payer_no_longer_blocks_the_months_after_its_last_covered_day() -> None:
    stopped = Payer("A-2025", date(2025, 1, 6), date(2025, 12, 31), ended_on=date(2025, 4, 15))
    later = (date(2025, 5, 1), date(2025, 12, 31))
    assert decide(payers=[stopped], period=later, today=date(2025, 4, 20)) == Continuation(KPJ)
    assert code(decide(payers=[stopped], period=(date(2025, 4, 1), date(2025, 12, 31)))) == (
        "ALREADY_REGISTERED"
    )
    # Stopped before it began: it never paid for anything.
    never = Payer("A-2025", date(2025, 1, 6), date(2025, 12, 31), ended_on=date(2025, 1, 5))
    assert decide(payers=[never]) == Continuation(KPJ)


def test_the_kpj_stated_must_be_the_one_bpjs_holds_for_the_nik() -> None:
    other = decide(stated_kpj="KPJ19000000999", stated_kpj_known=True)
    assert code(other) == "KPJ_MISMATCH"
    # A person BPJS does not know, stating a KPJ someone else holds / nobody holds.
    taken = decide(nik_kpj=None, stated_kpj="KPJ19000000999", stated_kpj_known=True)
    assert code(taken) == "KPJ_MISMATCH"
    assert isinstance(taken, Refusal) and "NIK lain" in taken.message and not taken.retryable
    unknown = decide(nik_kpj=None, stated_kpj="KPJ00000000000")
    assert code(unknown) == "KPJ_UNKNOWN"


def test_a_known_person_is_not_checked_against_dukcapil_again_but_age_limits_still_apply() -> None:
    everyone_unknown = InsurerBehaviour(seed=7, nik_not_found_per_million=1_000_000, age_min=15, age_max=65)
    assert code(decide(nik_kpj=None, behaviour=everyone_unknown)) == "NIK_NOT_FOUND"
    assert decide(behaviour=everyone_unknown) == Continuation(KPJ)
    assert code(decide(birth=date(1958, 12, 1))) == "AGE_OUT_OF_RANGE"  # 66 on 1 January


def test_a_transient_refusal_comes_first_so_the_re_sent_request_is_decided_afresh() -> None:
    always_down = InsurerBehaviour(
        seed=7, nik_not_found_per_million=0, age_min=15, age_max=65, transient_error_per_million=1_000_000
    )
    refusal = decide(behaviour=always_down, stated_kpj="KPJ19000000999", stated_kpj_known=True)
    assert isinstance(refusal, Refusal) and refusal.code == "DUKCAPIL_UNAVAILABLE" and refusal.retryable


def paying_2025(*paid: int, ended_on: date | None = None) -> Payer:
    return Payer(
        "SUMUT-2025",
        date(2025, 1, 6),
        date(2025, 12, 31),
        ended_on=ended_on,
        paid_months=frozenset(f"2025-{m:02d}" for m in paid),
    )


def test_more_than_three_consecutive_unpaid_months_end_the_membership() -> None:
    payer = paying_2025(1, 2)
    # March to May due and unpaid: 3 months of arrears, still payable.
    assert membership_end(payer, date(2025, 5, 31), 3) is None
    # June due too: a 4th month; protection stopped on the last day paid.
    assert membership_end(payer, date(2025, 6, 1), 3) == date(2025, 2, 28)
    # Arrears paid in time restore it: the run of unpaid months is broken.
    assert membership_end(paying_2025(1, 2, 4), date(2025, 7, 1), 3) is None
    # Never paid at all: ended the day before the first month.
    assert membership_end(paying_2025(), date(2025, 4, 1), 3) == date(2024, 12, 31)


def test_a_month_not_yet_due_is_not_a_lapse_and_months_after_the_period_do_not_count() -> None:
    # Paid through March; on 30 April only April is due and unpaid.
    assert membership_end(paying_2025(1, 2, 3), date(2025, 4, 30), 0) == date(2025, 3, 31)
    assert membership_end(paying_2025(1, 2, 3), date(2025, 3, 31), 0) is None
    # Paid through October: November and December unpaid; 2026 is not this payer's to pay.
    assert membership_end(paying_2025(*range(1, 11)), date(2026, 6, 1), 3) is None


def test_a_membership_that_ended_lets_a_new_registration_keep_the_kpj() -> None:
    lapsed = paying_2025(1, 2)
    h2 = (date(2025, 7, 1), date(2025, 12, 31))
    assert code(decide(payers=[lapsed], period=h2, today=date(2025, 5, 20))) == "ALREADY_REGISTERED"
    assert decide(payers=[lapsed], period=h2, today=date(2025, 6, 2)) == Continuation(KPJ)


def test_payments_are_refused_only_for_months_after_every_stop_of_that_programme() -> None:
    assert not payment_stopped([], "2025-05")  # not paid by this programme: not its stop to judge
    assert not payment_stopped([None], "2025-05")
    assert not payment_stopped([date(2025, 5, 15)], "2025-05")  # the month of the last covered day
    assert payment_stopped([date(2025, 5, 15)], "2025-06")
    assert payment_stopped([date(2025, 4, 30)], "2025-05")
    # Re-registered under the same programme after the stop: it pays again.
    assert not payment_stopped([date(2025, 4, 30), None], "2025-06")
