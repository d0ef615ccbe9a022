"""A consumer batch of the registry decided and projected together, as one by one would leave it:
the batch cut where order matters (handlers.segments), seat moves in rounds that never move one
nomination twice (adapters/consumed_projections.rounds), and each event's seat conditions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events import decode, topics
from libs.events.contracts.allocation import QuotaAssigned, QuotaChanged, QuotaReleased
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.memory import MemoryTransaction
from libs.eventstore.ports import PendingAppend, StoreTransaction
from libs.identity import worker_id_for
from libs.messaging.consumer import Consumed
from libs.nik import normalize_nik
from services.registry.adapters.consumed_projections import SeatMove, rounds, seat_move
from services.registry.application.handlers import segments
from services.registry.domain.one_payer import Seat
from tests.support.envelopes import envelope_of
from tests.unit.registry.builders import make_nik
from tests.unit.registry.fakes import PEPPER, PROGRAMME, World, a_command

IDENTITY = WorkerIdentity(
    nik="1217011708850001", full_name="Rudolf Simbolon", birth_date="1985-08-17", sex="L"
)


def consumed(event: DomainEvent, topic: str = topics.ALLOCATION) -> Consumed:
    envelope = envelope_of(event, "allocation", "programme-x")
    record = ConsumerRecord(topic, 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
    return Consumed(record, envelope, decode(envelope), envelope)


def submitted(nik: str, source_ref: str) -> Consumed:
    event = NominationSubmitted(**{**a_command(nik=nik).model_dump(), "source_ref": source_ref})
    envelope = envelope_of(event, "regency-12.17", f"siak-{source_ref}")
    record = ConsumerRecord(topics.NOMINATIONS_INBOUND, 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
    return Consumed(record, envelope, event, envelope)


def assigned(worker_id: str, nomination_id: str = "n-1") -> QuotaAssigned:
    return QuotaAssigned(
        worker_id=worker_id,
        nomination_id=nomination_id,
        programme_code=PROGRAMME,
        funder=Funder.APBD_KABUPATEN,
        regency_code="12.17",
        sector="non_sawit",
        decile=1,
        identity=IDENTITY,
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        premium_per_month=16_800,
        requires_decree=False,
    )


def enrolled(worker_id: str) -> EnrolledAtBPJS:
    return EnrolledAtBPJS(
        worker_id=worker_id,
        programme_code=PROGRAMME,
        funder=Funder.APBD_KABUPATEN,
        regency_code="12.17",
        kpj=f"KPJ-{worker_id[:6]}",
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        request_id="r-1",
    )


SERIALS = iter(range(1000, 9999))


def a_nik() -> str:
    return make_nik(serial=f"{next(SERIALS):04d}")


def subject(nik: str) -> str:
    return worker_id_for(normalize_nik(nik), PEPPER)


def shape(
    cut: Sequence[tuple[list[Envelope], list[tuple[Envelope, NominationSubmitted]]]],
) -> list[tuple[int, int]]:
    return [(len(others), len(run)) for others, run in cut]


def test_replies_about_other_workers_join_the_nominations_segment() -> None:
    a, b = a_nik(), a_nik()
    items = [
        submitted(a, "1"),
        consumed(assigned("other-1")),
        consumed(enrolled("other-2"), topics.ENROLLMENT),
        submitted(b, "2"),
    ]

    assert shape(segments(items, subject)) == [(2, 2)]


def test_a_reply_about_a_worker_nominated_earlier_in_the_batch_waits_for_the_decision() -> None:
    a = a_nik()
    items = [submitted(a, "1"), consumed(enrolled(subject(a)), topics.ENROLLMENT), submitted(a_nik(), "2")]

    cut = segments(items, subject)

    assert shape(cut) == [(0, 1), (1, 1)]
    assert cut[1][0][0].event_type == "EnrolledAtBPJS"


def test_a_reply_before_the_nomination_of_its_worker_is_projected_first_in_one_segment() -> None:
    a = a_nik()

    assert shape(segments([consumed(enrolled(subject(a))), submitted(a, "1")], subject)) == [(1, 1)]


def test_a_programmes_seats_changed_after_nominations_start_a_new_segment() -> None:
    change = QuotaChanged(
        programme_code=PROGRAMME,
        regency_code="12.17",
        sector="non_sawit",
        seats=3,
        previous_seats=2,
        over_assigned=0,
    )
    items = [submitted(a_nik(), "1"), consumed(change), submitted(a_nik(), "2")]

    assert shape(segments(items, subject)) == [(0, 1), (1, 1)]


def test_seat_moves_of_one_worker_or_nomination_go_to_later_rounds_in_order() -> None:
    first = SeatMove("w1", PROGRAMME, "n-1", Seat.ASSIGNED, None, frozenset(Seat), True)
    other = SeatMove("w2", PROGRAMME, None, Seat.ENROLLED, None, frozenset({"assigned"}), True)
    then = SeatMove("w1", PROGRAMME, None, Seat.ENROLLED, None, frozenset({"assigned"}), True)
    same_nomination = SeatMove("w3", PROGRAMME, "n-1", Seat.DECLINED, "P", frozenset(Seat), True)
    last = SeatMove("w2", PROGRAMME, None, Seat.RELEASED, None, frozenset({"enrolled"}), False)

    assert rounds([first, other, then, same_nomination, last]) == [
        [first, other],
        [then, same_nomination, last],
    ]


def test_each_event_says_which_seats_it_follows() -> None:
    seating = seat_move(assigned("w1"))
    enrolment = seat_move(enrolled("w1"))
    release = seat_move(
        QuotaReleased(
            worker_id="w1",
            programme_code=PROGRAMME,
            regency_code="12.17",
            sector="non_sawit",
            reason="withdrawn",
        )
    )

    assert seating is not None and seating.nomination_id == "n-1" and seating.from_none
    assert Seat.ENROLLED not in seating.follows and Seat.RELEASED in seating.follows
    assert (
        enrolment is not None and enrolment.follows == {Seat.ASSIGNED, Seat.DECREED} and enrolment.from_none
    )
    assert release is not None and not release.from_none and Seat.ENROLLED in release.follows


async def test_a_mixed_batch_projects_the_replies_once_and_decides_the_nominations_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    appended: list[list[str]] = []
    append = MemoryTransaction.append

    async def counted(tx: MemoryTransaction, appends: Sequence[PendingAppend]) -> list[Recorded]:
        appended.append([r.event.event_type for a in appends for r in a.recorded])
        return await append(tx, appends)

    monkeypatch.setattr(MemoryTransaction, "append", counted)
    niks = [make_nik(serial="0101"), make_nik(serial="0102")]
    for nik in niks:
        world.p3ke[subject(nik)] = 1
    calls: list[list[str]] = []

    async def project(tx: StoreTransaction, envelopes: Sequence[Envelope]) -> None:
        calls.append([e.event_type for e in envelopes])

    world.registry.reactor.project_consumed = project
    items = [
        submitted(niks[0], "1"),
        consumed(assigned("other-1")),
        submitted(niks[1], "2"),
        consumed(enrolled("other-1"), topics.ENROLLMENT),
    ]

    async def react(tx: StoreTransaction) -> None:
        await world.registry.reactor.react(tx, items)

    await world.kit.transact(react)

    assert calls == [["QuotaAssigned", "EnrolledAtBPJS"]]
    # One append for both workers' decisions, one for both replies (the reply stream's decider).
    assert appended == [
        ["WorkerNominated", "WorkerValidated", "WorkerNominated", "WorkerValidated"],
        ["NominationAccepted", "NominationAccepted"],
    ]
