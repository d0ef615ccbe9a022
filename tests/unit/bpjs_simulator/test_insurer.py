"""The simulator's decisions: seeded, per request, within the configured rates."""

from __future__ import annotations

from datetime import date

import pytest

from services.bpjs_simulator.domain.answers import deliveries
from services.bpjs_simulator.domain.insurer import (
    PER_MILLION,
    InsurerBehaviour,
    kpj_number,
    nik_not_found,
    registration_refusal,
)
from services.bpjs_simulator.domain.payments import PaymentRequest, payment_ref, payment_refusal

CALM = InsurerBehaviour(seed=7, nik_not_found_per_million=0, age_min=15, age_max=65)
START = date(2026, 1, 1)
BIRTH = date(1988, 7, 5)


def niks(n: int) -> list[str]:
    return [f"121705450788{i:04d}" for i in range(1, n + 1)]


def test_a_calm_insurer_accepts_every_adult_and_answers_once_at_once() -> None:
    for nik in niks(200):
        assert registration_refusal(nik, BIRTH, START, CALM) is None
        assert [(d.delay_ms, d.copy, d.late) for d in deliveries(CALM, f"registration:{nik}:1")] == [
            (0, 1, False)
        ]


def test_age_is_checked_on_the_coverage_start_inclusive() -> None:
    assert registration_refusal("1217054507880001", date(2011, 1, 1), START, CALM) is None  # 15 that day
    young = registration_refusal("1217054507880001", date(2011, 1, 2), START, CALM)
    assert young is not None and young.code == "AGE_OUT_OF_RANGE" and not young.retryable
    assert "14 tahun" in young.message
    assert registration_refusal("1217054507880001", date(1960, 1, 2), START, CALM) is None  # 65
    old = registration_refusal("1217054507880001", date(1960, 1, 1), START, CALM)  # 66 that day
    assert old is not None and old.code == "AGE_OUT_OF_RANGE" and "66 tahun" in old.message


def test_unknown_niks_follow_the_seeded_rate_and_the_same_nik_always_gets_the_same_answer() -> None:
    five_percent = InsurerBehaviour(seed=7, nik_not_found_per_million=50_000, age_min=15, age_max=65)
    sample = niks(4000)
    unknown = [n for n in sample if nik_not_found(n, five_percent)]
    assert 120 < len(unknown) < 280  # 5% of 4000 = 200
    for nik in unknown[:20]:
        for attempt in (1, 2, 3):
            refusal = registration_refusal(nik, BIRTH, START, five_percent, attempt=attempt)
            assert refusal is not None and refusal.code == "NIK_NOT_FOUND" and not refusal.retryable
    other_seed = InsurerBehaviour(seed=8, nik_not_found_per_million=50_000, age_min=15, age_max=65)
    assert unknown != [n for n in sample if nik_not_found(n, other_seed)]


def test_transient_refusals_are_retryable_and_drawn_per_attempt() -> None:
    flaky = InsurerBehaviour(
        seed=7, nik_not_found_per_million=0, age_min=15, age_max=65, transient_error_per_million=300_000
    )
    first = [registration_refusal(n, BIRTH, START, flaky, attempt=1) for n in niks(500)]
    refused = [n for n, r in zip(niks(500), first, strict=True) if r is not None]
    assert all(r is None or (r.code == "DUKCAPIL_UNAVAILABLE" and r.retryable) for r in first)
    assert 100 < len(refused) < 200
    # A re-sent request is decided afresh: most pass on the next attempt.
    passed = [n for n in refused if registration_refusal(n, BIRTH, START, flaky, attempt=2) is None]
    assert len(passed) > len(refused) // 2


def test_repeats_and_late_answers_follow_their_rates_and_delays_stay_in_range() -> None:
    noisy = InsurerBehaviour(
        seed=3,
        nik_not_found_per_million=0,
        age_min=15,
        age_max=65,
        min_delay_ms=100,
        max_delay_ms=900,
        duplicate_per_million=200_000,
        late_per_million=100_000,
        late_delay_ms=5_000,
    )
    sends = [deliveries(noisy, f"registration:{i}:1") for i in range(3000)]
    assert sends == [deliveries(noisy, f"registration:{i}:1") for i in range(3000)]  # seeded
    twice = [s for s in sends if len(s) == 2]
    late = [s for s in sends if s[0].late]
    assert 450 < len(twice) < 750 and 200 < len(late) < 400
    for s in sends:
        first = s[0]
        base = first.delay_ms - (5_000 if first.late else 0)
        assert 100 <= base <= 900 and first.copy == 1
        if len(s) == 2:
            assert s[1].copy == 2 and not s[1].late
            assert 100 <= s[1].delay_ms - first.delay_ms <= 900  # the repeat comes after the first


def test_behaviour_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        InsurerBehaviour(seed=1, nik_not_found_per_million=PER_MILLION + 1, age_min=15, age_max=65)
    with pytest.raises(ValueError):
        InsurerBehaviour(
            seed=1, nik_not_found_per_million=0, age_min=15, age_max=65, min_delay_ms=10, max_delay_ms=5
        )


def request(kpjs: list[str], **changes: int) -> PaymentRequest:
    n = len(kpjs)
    fields = {
        "participants": n,
        "jkk_per_participant": 10_000,
        "jkm_per_participant": 6_800,
        "jkk_total": n * 10_000,
        "jkm_total": n * 6_800,
        "total": n * 16_800,
    } | changes
    return PaymentRequest(kpjs=tuple(kpjs), **fields)


def test_a_payment_is_booked_only_when_every_rupiah_and_participant_is_right() -> None:
    kpjs = ["KPJ1", "KPJ2", "KPJ3"]
    assert payment_refusal(request(kpjs), set(), set(), CALM, "p:1") is None
    for wrong in (
        {"total": 50_399},
        {"jkm_total": 20_401},
        {"participants": 2},
        {"jkk_per_participant": 9_999},
    ):
        refusal = payment_refusal(request(kpjs, **wrong), set(), set(), CALM, "p:1")
        assert refusal is not None and refusal.code == "AMOUNT_MISMATCH" and not refusal.retryable
    mismatch = payment_refusal(request(kpjs, total=1), set(), set(), CALM, "p:1")
    assert mismatch is not None and "Rp50.400" in mismatch.message
    twice = payment_refusal(request(["KPJ1", "KPJ1"]), set(), set(), CALM, "p:1")
    assert twice is not None and twice.code == "AMOUNT_MISMATCH"
    unknown = payment_refusal(request(kpjs), {"KPJ2"}, set(), CALM, "p:1")
    assert unknown is not None and unknown.code == "UNKNOWN_PARTICIPANT"
    paid = payment_refusal(request(kpjs), set(), {"KPJ3"}, CALM, "p:1")
    assert paid is not None and paid.code == "ALREADY_PAID"


def test_a_payment_for_a_participant_the_programme_stopped_paying_for_is_refused() -> None:
    kpjs = ["KPJ1", "KPJ2", "KPJ3"]
    stopped = payment_refusal(request(kpjs), set(), set(), CALM, "p:1", not_active={"KPJ2"})
    assert stopped is not None and stopped.code == "NOT_ACTIVE" and not stopped.retryable
    assert "1 peserta" in stopped.message
    # An unknown KPJ is the graver fault and is named first.
    both = payment_refusal(request(kpjs), {"KPJ1"}, set(), CALM, "p:1", not_active={"KPJ2"})
    assert both is not None and both.code == "UNKNOWN_PARTICIPANT"


def test_payment_system_outages_are_retryable() -> None:
    down = InsurerBehaviour(
        seed=7, nik_not_found_per_million=0, age_min=15, age_max=65, transient_error_per_million=PER_MILLION
    )
    refusal = payment_refusal(request(["KPJ1"]), set(), set(), down, "p:1")
    assert refusal is not None and refusal.code == "SERVICE_UNAVAILABLE" and refusal.retryable


def test_numbers_are_unique_per_sequence() -> None:
    assert kpj_number(1) == "KPJ26000000001" and kpj_number(2) != kpj_number(1)
    assert payment_ref(42) == "BPJS-PAY-0000000042"
