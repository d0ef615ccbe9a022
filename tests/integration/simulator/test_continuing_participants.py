"""BPJS keeps one KPJ per person: continuing participants, stops and lapsed memberships, through
the simulator's real topics (requests sent as enrollment sends them, answers read where
enrollment reads them) and its control API."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from libs.events import Envelope, topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import DeregistrationRequested, PremiumPaymentRequested, RegistrationRequested
from libs.events.contracts.common import Funder
from services.bpjs_simulator.domain.insurer import kpj_number
from tests.integration.enrollment.support import Worker, identity, make_worker, produce
from tests.integration.simulator.conftest import Simulator
from tests.running import eventually, read_matching
from tests.support.envelopes import envelope_of

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()
SAMOSIR = "12.17"


def sent_by_enrollment(event: DomainEvent, stream: str) -> tuple[str, Envelope]:
    envelope = envelope_of(event, "enrollment", stream)
    key = event.partition_key()
    assert key is not None
    return key, envelope


def registration(
    w: Worker, programme: str, start: date, end: date, attempt: int = 1, kpj: str | None = None
) -> RegistrationRequested:
    return RegistrationRequested(
        request_id=f"{w.worker_id}:{programme}",
        attempt=attempt,
        worker_id=w.worker_id,
        programme_code=programme,
        identity=identity(w),
        funder=Funder.APBD_PROVINSI,
        regency_code=w.regency,
        sector="non_sawit",
        coverage_start=start,
        coverage_end=end,
        kpj=kpj,
    )


def payment(programme: str, month: str, kpjs: list[str], attempt: int = 1) -> PremiumPaymentRequested:
    n = len(kpjs)
    return PremiumPaymentRequested(
        payment_request_id=f"{programme}/{month}/{SAMOSIR}/1",
        attempt=attempt,
        programme_code=programme,
        month=month,
        funder=Funder.APBD_PROVINSI,
        regency_code=SAMOSIR,
        kpjs=kpjs,
        participants=n,
        jkk_per_participant=10_000,
        jkm_per_participant=6_800,
        jkk_total=n * 10_000,
        jkm_total=n * 6_800,
        total=n * 16_800,
    )


Request = RegistrationRequested | DeregistrationRequested | PremiumPaymentRequested


async def ask(sim: Simulator, event: Request) -> dict[str, Any]:
    """Send `event` as enrollment would and return BPJS's answer to that attempt (the same
    payload however many times the simulator repeats itself)."""
    request_id = event.payment_request_id if isinstance(event, PremiumPaymentRequested) else event.request_id
    attempt = event.attempt
    await produce(
        sim.bootstrap, [sent_by_enrollment(event, f"test-{request_id}")], topic=topics.BPJS_REQUESTS
    )

    def answers_it(record: Any) -> bool:
        payload = Envelope.from_bytes(record.value).payload
        return (
            payload.get("request_id", payload.get("payment_request_id")) == request_id
            and payload["attempt"] == attempt
        )

    found = await read_matching(sim.bootstrap, topics.BPJS_RESULTS, answers_it, expected=1)
    assert found, f"no answer to {request_id} attempt {attempt}"
    answers = [Envelope.from_bytes(r.value) for r in found]
    assert len({(a.event_type, repr(a.payload)) for a in answers}) == 1, answers
    assert all(a.producer == "bpjs_simulator" for a in answers)
    return {"event_type": answers[0].event_type, **answers[0].payload}


async def test_a_worker_covered_in_2024_and_again_in_2025_keeps_one_kpj(simulator: Simulator) -> None:
    w = make_worker(random.Random(f"{RUN}-1"), "pepper", SAMOSIR)
    simulator.clock.set_day(date(2024, 2, 1))
    first = await ask(simulator, registration(w, f"SUMUT-{RUN}-2024", date(2024, 1, 1), date(2024, 12, 31)))
    assert first["event_type"] == "RegistrationAccepted" and first["continued"] is False
    kpj = first["kpj"]

    simulator.clock.set_day(date(2025, 1, 6))
    sumut_2025 = registration(w, f"SUMUT-{RUN}-2025", date(2025, 1, 1), date(2025, 12, 31))
    second = await ask(simulator, sumut_2025)
    assert second["event_type"] == "RegistrationAccepted"
    assert (second["kpj"], second["continued"]) == (kpj, True)
    # Re-sent: the same answer, the same instant.
    again = await ask(simulator, sumut_2025.model_copy(update={"attempt": 2}))
    assert {k: again[k] for k in ("kpj", "continued", "registered_at")} == {
        k: second[k] for k in ("kpj", "continued", "registered_at")
    }

    # A second payer for the same months while SUMUT-2025 pays: refused, naming it.
    overlap = await ask(
        simulator, registration(w, f"LABUHANBATU-{RUN}-2025", date(2025, 3, 1), date(2025, 12, 31))
    )
    assert overlap["event_type"] == "RegistrationRejected" and overlap["reason_code"] == "ALREADY_REGISTERED"
    assert f"SUMUT-{RUN}-2025" in overlap["reason"] and overlap["retryable"] is False
    # Stating another person's KPJ: refused.
    wrong = await ask(
        simulator,
        registration(w, f"DBH-{RUN}-2026", date(2026, 1, 1), date(2026, 12, 31), kpj="KPJ00000000001"),
    )
    assert wrong["event_type"] == "RegistrationRejected" and wrong["reason_code"] in (
        "KPJ_UNKNOWN",
        "KPJ_MISMATCH",
    )

    held = (await simulator.http.get(f"/participants/{kpj}", headers=simulator.as_role("auditor"))).json()
    assert [p["programme_code"] for p in held["payers"]] == [f"SUMUT-{RUN}-2024", f"SUMUT-{RUN}-2025"]
    assert [p["continued"] for p in held["payers"]] == [False, True]


async def test_participants_known_before_lindung_are_continued_with_their_kpj(simulator: Simulator) -> None:
    rng = random.Random(f"{RUN}-2")
    old, other = make_worker(rng, "pepper", SAMOSIR), make_worker(rng, "pepper", SAMOSIR)
    old_kpj, other_kpj = f"KPJ19{RUN}001", f"KPJ19{RUN}002"
    known = {
        "participants": [
            {"nik": old.nik, "kpj": old_kpj, "registered_on": "2019-03-01"},
            {"nik": other.nik, "kpj": other_kpj, "registered_on": "2021-08-17"},
        ]
    }
    refused = await simulator.http.post(
        "/control/participants", json=known, headers=simulator.as_role("auditor")
    )
    assert refused.status_code == 403
    loaded = await simulator.http.post("/control/participants", json=known, headers=simulator.as_role("bpjs"))
    assert loaded.status_code == 200 and loaded.json() == {"loaded": 2, "already_held": 0}
    again = await simulator.http.post("/control/participants", json=known, headers=simulator.as_role("bpjs"))
    assert again.json() == {"loaded": 0, "already_held": 2}
    clash = {"participants": [{"nik": old.nik, "kpj": f"KPJ19{RUN}999", "registered_on": "2019-03-01"}]}
    conflict = await simulator.http.post(
        "/control/participants", json=clash, headers=simulator.as_role("bpjs")
    )
    assert conflict.status_code == 409 and conflict.json()["detail"]["code"] == "PARTICIPANT_CONFLICT"

    simulator.clock.set_day(date(2026, 1, 5))
    samosir = f"SAMOSIR-{RUN}-2026"
    stated = await ask(
        simulator, registration(old, samosir, date(2026, 1, 1), date(2026, 12, 31), kpj=old_kpj)
    )
    assert stated["event_type"] == "RegistrationAccepted"
    assert (stated["kpj"], stated["continued"]) == (old_kpj, True)
    # Without the KPJ stated, BPJS finds it by NIK; with another's KPJ stated, it refuses.
    mismatch = await ask(
        simulator, registration(other, samosir, date(2026, 1, 1), date(2026, 12, 31), kpj=old_kpj)
    )
    assert mismatch["event_type"] == "RegistrationRejected" and mismatch["reason_code"] == "KPJ_MISMATCH"
    found = await ask(
        simulator, registration(other, f"SAMOSIR-{RUN}-2026B", date(2026, 1, 1), date(2026, 12, 31))
    )
    assert (found["kpj"], found["continued"]) == (other_kpj, True)


async def test_kpjs_issued_to_new_participants_pass_over_those_preloaded(simulator: Simulator) -> None:
    rng = random.Random(f"{RUN}-numbers")
    preloaded, newcomer = (
        [make_worker(rng, "pepper", SAMOSIR) for _ in range(3)],
        make_worker(rng, "pepper", SAMOSIR),
    )
    async with simulator.runtime.engine.connect() as conn:
        last = (await conn.execute(text("SELECT nextval('bpjs_simulator.participants_seq')"))).scalar_one()
    # Loading three takes three numbers of the sequence; the next three would be issued next.
    taken = [kpj_number(last + 4 + i) for i in range(3)]
    known = [
        {"nik": w.nik, "kpj": kpj, "registered_on": "2020-05-04"}
        for w, kpj in zip(preloaded, taken, strict=True)
    ]
    loaded = await simulator.http.post(
        "/control/participants", json={"participants": known}, headers=simulator.as_role("bpjs")
    )
    assert loaded.status_code == 200, loaded.text

    simulator.clock.set_day(date(2026, 1, 5))
    answer = await ask(
        simulator, registration(newcomer, f"NUMBERS-{RUN}-2026", date(2026, 1, 1), date(2026, 12, 31))
    )
    assert answer["event_type"] == "RegistrationAccepted" and answer["continued"] is False
    assert answer["kpj"] == kpj_number(last + 7)


async def test_a_deregistration_is_confirmed_and_later_months_are_not_paid(simulator: Simulator) -> None:
    w = make_worker(random.Random(f"{RUN}-3"), "pepper", SAMOSIR)
    programme = f"STOP-{RUN}-2025"
    simulator.clock.set_day(date(2025, 1, 6))
    registered = await ask(simulator, registration(w, programme, date(2025, 1, 1), date(2025, 12, 31)))
    kpj = registered["kpj"]
    january = await ask(simulator, payment(programme, "2025-01", [kpj]))
    assert january["event_type"] == "PremiumPaymentConfirmed"

    simulator.clock.set_day(date(2025, 3, 20))
    stop = DeregistrationRequested(
        request_id=f"{w.worker_id}:{programme}:stop",
        attempt=1,
        worker_id=w.worker_id,
        programme_code=programme,
        kpj=kpj,
        funder=Funder.APBD_PROVINSI,
        regency_code=SAMOSIR,
        last_covered_day=date(2025, 3, 18),
        reason="died",
    )
    confirmed = await ask(simulator, stop)
    assert confirmed["event_type"] == "DeregistrationConfirmed"
    assert (confirmed["kpj"], confirmed["effective_on"], confirmed["worker_id"]) == (
        kpj,
        "2025-03-18",
        w.worker_id,
    )
    resent = await ask(simulator, stop.model_copy(update={"attempt": 2}))
    assert {k: v for k, v in resent.items() if k != "attempt"} == {
        k: v for k, v in confirmed.items() if k != "attempt"
    }

    march = await ask(simulator, payment(programme, "2025-03", [kpj]))
    assert march["event_type"] == "PremiumPaymentConfirmed"  # the month of the last covered day
    april = await ask(simulator, payment(programme, "2025-04", [kpj]))
    assert april["event_type"] == "PremiumPaymentRejected"
    assert (april["reason_code"], april["kpjs"], april["retryable"]) == ("NOT_ACTIVE", [kpj], False)

    # The payer stopped: another programme may take the same KPJ over for the months after.
    taken_over = await ask(
        simulator, registration(w, f"TAKEOVER-{RUN}-2025", date(2025, 4, 1), date(2025, 12, 31))
    )
    assert (taken_over["kpj"], taken_over["continued"]) == (kpj, True)

    unknown = await ask(
        simulator,
        stop.model_copy(update={"request_id": f"{w.worker_id}:nobody", "kpj": f"KPJ00{RUN}404"}),
    )
    assert (
        unknown["event_type"] == "DeregistrationRejected" and unknown["reason_code"] == "UNKNOWN_PARTICIPANT"
    )


async def test_a_membership_ended_by_four_unpaid_months_is_re_registered_with_the_same_kpj(
    simulator: Simulator,
) -> None:
    w = make_worker(random.Random(f"{RUN}-4"), "pepper", SAMOSIR)
    first = f"LAPSE-{RUN}-2025"
    simulator.clock.set_day(date(2025, 1, 6))
    kpj = (await ask(simulator, registration(w, first, date(2025, 1, 1), date(2025, 12, 31))))["kpj"]
    for month in ("2025-01", "2025-02"):
        paid = await ask(simulator, payment(first, month, [kpj]))
        assert paid["event_type"] == "PremiumPaymentConfirmed"

    # March to May due and unpaid: arrears BPJS would still take, the membership stands.
    simulator.clock.set_day(date(2025, 5, 20))
    early = await ask(simulator, registration(w, f"EARLY-{RUN}-2025", date(2025, 7, 1), date(2025, 12, 31)))
    assert early["event_type"] == "RegistrationRejected" and early["reason_code"] == "ALREADY_REGISTERED"
    # June due and unpaid too: more than three months, the membership ended.
    simulator.clock.set_day(date(2025, 6, 2))
    again = await ask(simulator, registration(w, f"AGAIN-{RUN}-2025", date(2025, 7, 1), date(2025, 12, 31)))
    assert again["event_type"] == "RegistrationAccepted"
    assert (again["kpj"], again["continued"]) == (kpj, True)


async def test_samosir_2026_continues_1495_participants_and_registers_320_new(simulator: Simulator) -> None:
    rng = random.Random(f"{RUN}-samosir")
    people: dict[str, Worker] = {}
    while len(people) < 1_815:
        w = make_worker(rng, "pepper", SAMOSIR)
        people[w.nik] = w
    workers = list(people.values())
    continuing, new = workers[:1_495], workers[1_495:]
    held = {w.nik: f"KPJ18{RUN}{i:05d}" for i, w in enumerate(continuing)}
    known = [{"nik": nik, "kpj": kpj, "registered_on": "2024-01-15"} for nik, kpj in held.items()]
    loaded = await simulator.http.post(
        "/control/participants", json={"participants": known}, headers=simulator.as_role("bpjs")
    )
    assert loaded.json() == {"loaded": 1_495, "already_held": 0}

    simulator.clock.set_day(date(2026, 1, 5))
    programme = f"SAMOSIR-{RUN}-2026-ALL"
    # Half of the continuing participants' KPJs are on the officers' lists; the rest are found by NIK.
    requests = [
        registration(
            w, programme, date(2026, 1, 1), date(2026, 12, 31), kpj=held[w.nik] if i % 2 == 0 else None
        )
        for i, w in enumerate(continuing)
    ] + [registration(w, programme, date(2026, 1, 1), date(2026, 12, 31)) for w in new]
    await produce(
        simulator.bootstrap,
        [sent_by_enrollment(r, f"test-{r.request_id}") for r in requests],
        topic=topics.BPJS_REQUESTS,
    )
    nik_of = {r.request_id: r.identity.nik for r in requests}

    def answers_one(record: Any) -> bool:
        return Envelope.from_bytes(record.value).payload.get("request_id") in nik_of

    async def every_answer() -> dict[str, dict[str, Any]] | None:
        found = await read_matching(
            simulator.bootstrap, topics.BPJS_RESULTS, answers_one, expected=len(requests), timeout_s=10
        )
        envelopes = [Envelope.from_bytes(r.value) for r in found]
        assert {e.event_type for e in envelopes} <= {"RegistrationAccepted"}
        by_nik = {nik_of[e.payload["request_id"]]: e.payload for e in envelopes}
        return by_nik if len(by_nik) == len(requests) else None

    answers = await eventually(every_answer, timeout_s=90, interval_s=0.5)
    assert {nik: a["kpj"] for nik, a in answers.items() if a["continued"]} == held
    fresh = [a["kpj"] for nik, a in answers.items() if not a["continued"]]
    assert sorted(nik_of[a["request_id"]] for a in answers.values() if not a["continued"]) == sorted(
        w.nik for w in new
    )
    assert len(set(fresh)) == 320 and not set(fresh) & set(held.values())
