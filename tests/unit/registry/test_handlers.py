"""The registry's handlers on the in-memory store (no PostgreSQL): nominations accepted,
rejected, repeated, corrected and withdrawn; regency systems' messages answered; a person
forgotten; a reference extract imported. Assertions are on the events recorded and queued."""

from __future__ import annotations

from datetime import date

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events import decode, topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.eventstore.kit import Origin
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.messaging.consumer import Consumed
from services.registry.application.changes import ChangeRefused, Correction
from services.registry.application.nominate import NominationRequest, NominationResult, ProgrammeEnded
from services.registry.domain.worker import stream_of
from tests.support.envelopes import envelope_of
from tests.unit.registry.builders import make_nik
from tests.unit.registry.fakes import PEPPER, PROGRAMME, World, a_command, programme_record

NIK = make_nik()
WORKER = worker_id_for(NIK, PEPPER)


def events_of(world: World, stream: str) -> list[DomainEvent]:
    return [decode(e) for e in world.store.events(stream)]


def types_of(world: World, stream: str) -> list[str]:
    return [e.event_type for e in world.store.events(stream)]


def codes(result: NominationResult) -> list[str]:
    return [r.code for r in result.reasons]


@pytest.fixture
def world() -> World:
    w = World()
    w.p3ke[WORKER] = 1
    return w


async def nominate(world: World, **overrides: object) -> NominationResult:
    return await world.registry.nominate(
        world.kit, a_command(**overrides), channel="http", submitted_by="petugas"
    )


async def test_a_nomination_that_passes_every_rule_is_validated(world: World) -> None:
    result = await nominate(world)

    assert result.status == "validated" and result.reasons == []
    assert types_of(world, stream_of(WORKER)) == ["WorkerNominated", "WorkerValidated"]
    validated = events_of(world, stream_of(WORKER))[1]
    assert validated.decile == 1 and validated.poverty_source == "P3KE"  # type: ignore[attr-defined]
    assert [m.topic for m in world.store.outbox] == [topics.REGISTRY, topics.REGISTRY]


async def test_a_rejected_nomination_is_recorded_with_every_reason(world: World) -> None:
    del world.p3ke[WORKER]

    result = await nominate(world, birth_date=date(1985, 8, 18), occupation="astronot")

    assert result.status == "rejected"
    assert {"NIK_BIRTHDATE_MISMATCH", "OCCUPATION_NOT_ALLOWED", "NOT_IN_P3KE_OR_DTKS"} <= set(codes(result))
    rejected = events_of(world, stream_of(WORKER))[1]
    assert rejected.event_type == "WorkerRejected" and rejected.nik_masked != NIK  # type: ignore[attr-defined]


async def test_a_nomination_that_cannot_be_one_is_answered_and_not_recorded(world: World) -> None:
    result = await nominate(world, sex="X")

    assert result.status == "invalid" and result.nomination_id is None and result.reasons
    assert world.store.events(stream_of(WORKER)) == []


async def test_an_ended_programme_takes_no_nomination(world: World) -> None:
    world.programmes[PROGRAMME] = programme_record(
        coverage_end=date(2026, 2, 1), coverage_start=date(2026, 1, 1)
    )
    world.programmes[PROGRAMME] = world.programmes[PROGRAMME].__class__(
        PROGRAMME,
        "APBD_KABUPATEN",
        date(2026, 1, 1),
        date(2026, 2, 1),
        world.programmes[PROGRAMME].definition,
    )

    with pytest.raises(ProgrammeEnded) as refused:
        await nominate(world)

    assert "1 Februari 2026" in refused.value.answer.message and world.store.log == []


async def test_the_same_worker_twice_in_one_list_is_a_duplicate_the_second_time(world: World) -> None:
    requests = [
        NominationRequest(a_command(source_ref="row-1")),
        NominationRequest(a_command(source_ref="row-2")),
    ]

    async def work(tx: StoreTransaction) -> list[NominationResult]:
        return await world.registry.nominations.decide_in(
            tx,
            requests,
            programme_code=PROGRAMME,
            channel="upload",
            submitted_by="petugas",
            origin=Origin.new(),
        )

    first, second = await world.kit.transact(work)

    assert first.status == "validated"
    assert second.status == "rejected" and codes(second) == ["DUPLICATE_NOMINATION"]
    assert len(world.store.events(stream_of(WORKER))) == 4


async def test_a_worker_nominated_again_later_is_a_duplicate(world: World) -> None:
    await nominate(world)

    again = await nominate(world)

    assert again.status == "rejected" and codes(again) == ["DUPLICATE_NOMINATION"]


async def test_a_rejected_nomination_corrected_is_decided_again(world: World) -> None:
    rejected = await nominate(world, birth_date=date(1985, 8, 18))
    assert rejected.nomination_id is not None and codes(rejected) == ["NIK_BIRTHDATE_MISMATCH"]

    correction = Correction({"birth_date": date(1985, 8, 17)}, corrected_by="petugas", note="salah ketik")
    corrected = await world.registry.correct(world.kit, rejected.nomination_id, correction)

    assert corrected.status == "validated" and corrected.nomination_id == rejected.nomination_id
    assert types_of(world, stream_of(WORKER))[2:] == ["NominationCorrected", "WorkerValidated"]
    with pytest.raises(ChangeRefused) as refused:  # only a rejected nomination is corrected
        await world.registry.correct(world.kit, rejected.nomination_id, correction)
    assert refused.value.status == 409


async def test_a_withdrawal_is_recorded_once(world: World) -> None:
    result = await nominate(world)
    assert result.nomination_id is not None

    state = await world.registry.withdraw(
        world.kit, result.nomination_id, "moved", "pindah", withdrawn_by="petugas"
    )

    assert state.status == "withdrawn"
    withdrawn = events_of(world, stream_of(WORKER))[-1]
    assert withdrawn.event_type == "NominationWithdrawn" and withdrawn.withdrawn_by == "petugas"  # type: ignore[attr-defined]
    with pytest.raises(ChangeRefused) as refused:
        await world.registry.withdraw(world.kit, result.nomination_id, "moved", "", withdrawn_by="petugas")
    assert refused.value.answer.code == "NOMINATION_ALREADY_WITHDRAWN"
    again = await nominate(world)  # a withdrawn nomination keeps nobody
    assert again.status == "validated"


def submitted(source_ref: str = "SIAK-1", **overrides: object) -> Envelope:
    event = NominationSubmitted(**{**a_command().model_dump(), "source_ref": source_ref, **overrides})
    return envelope_of(event, "regency-12.17", f"siak-{source_ref}")


async def consume(world: World, *envelopes: Envelope) -> None:
    items = []
    for envelope in envelopes:
        record = ConsumerRecord(
            topics.NOMINATIONS_INBOUND, 0, 0, 0, 0, None, envelope.to_bytes(), None, 0, 0, ()
        )
        items.append(Consumed(record, envelope, decode(envelope), envelope))

    async def react(tx: StoreTransaction) -> None:
        await world.registry.reactor.react(tx, items)

    await world.kit.transact(react)


async def test_a_regency_systems_nomination_is_decided_and_answered(world: World) -> None:
    request = submitted()

    await consume(world, request)

    (reply,) = events_of(world, f"inbound-{request.event_id}")
    assert reply.event_type == "NominationAccepted" and reply.source_ref == "SIAK-1"  # type: ignore[attr-defined]
    (answered,) = world.store.events(f"inbound-{request.event_id}")
    assert answered.causation_id == request.event_id and answered.correlation_id == request.correlation_id
    assert types_of(world, stream_of(WORKER)) == ["WorkerNominated", "WorkerValidated"]
    assert [subject for _, subject in world.sealed] == [WORKER]  # its inbox copy sealed


async def test_a_source_ref_sent_again_repeats_the_answer_and_records_nothing(world: World) -> None:
    first, again = submitted(), submitted()
    await consume(world, first)

    await consume(world, again)

    (reply,) = events_of(world, f"inbound-{again.event_id}")
    assert reply.event_type == "NominationAccepted" and reply.repeated  # type: ignore[attr-defined]
    assert len(world.store.events(stream_of(WORKER))) == 2


async def test_a_rejected_source_ref_sent_again_with_new_content_is_a_correction(world: World) -> None:
    await consume(world, submitted(birth_date="1985-08-18"))

    await consume(world, submitted(birth_date="1985-08-17"))

    assert types_of(world, stream_of(WORKER)) == [
        "WorkerNominated", "WorkerRejected", "NominationCorrected", "WorkerValidated",
    ]  # fmt: skip


async def test_a_message_that_cannot_be_read_is_answered_once_when_parked(world: World) -> None:
    record = ConsumerRecord(topics.NOMINATIONS_INBOUND, 0, 7, 0, 0, b"SIAK-9", b"not json", None, 0, 0, ())

    async def park(tx: StoreTransaction) -> None:
        await world.registry.reactor.parked(tx, record, None, ValueError("not json"))

    await world.kit.transact(park)
    await world.kit.transact(park)  # parked again after a redelivery

    (reply,) = events_of(world, f"inbound-{topics.NOMINATIONS_INBOUND}-0-7")
    assert reply.status == "malformed" and reply.request_key == "SIAK-9"  # type: ignore[attr-defined]
    assert reply.reasons[0].code == "MESSAGE_MALFORMED"  # type: ignore[attr-defined]


async def test_a_person_is_forgotten_once(world: World) -> None:
    await nominate(world)
    assert world.keys is not None
    world.keys.add(WORKER)

    event = await world.registry.forgetting.forget(world.kit, NIK, forgotten_by="admin", reason="permintaan")

    assert event.worker_id == WORKER and types_of(world, stream_of(WORKER))[-1] == "PersonForgotten"
    with pytest.raises(ChangeRefused) as again:
        await world.registry.forgetting.forget(world.kit, NIK, forgotten_by="admin", reason="lagi")
    assert again.value.answer.code == "PERSON_ALREADY_FORGOTTEN"
    with pytest.raises(ChangeRefused) as unknown:
        await world.registry.forgetting.forget(
            world.kit, make_nik(serial="0099"), forgotten_by="a", reason="r"
        )
    assert unknown.value.status == 404


async def test_forgetting_needs_a_key_vault(world: World) -> None:
    world.keys = None

    with pytest.raises(ChangeRefused) as refused:
        await world.registry.forgetting.forget(world.kit, NIK, forgotten_by="admin", reason="r")

    assert refused.value.answer.code == "PRIVACY_NOT_CONFIGURED" and world.store.log == []


async def test_a_reference_import_is_versioned_and_revalidates_waiting_nominations(world: World) -> None:
    del world.p3ke[WORKER]
    rejected = await nominate(world)
    assert codes(rejected) == ["NOT_IN_P3KE_OR_DTKS"]
    content = f"nik;desil\n{NIK};1\n".encode()

    imported = await world.registry.reference.import_extract(world.kit, "p3ke", content, "p3ke.csv")
    same = await world.registry.reference.import_extract(world.kit, "p3ke", content, "p3ke.csv")

    assert imported.changed and imported.sequence == 1 and not same.changed
    assert types_of(world, "reference-p3ke") == ["ReferenceDataImported"]
    assert world.p3ke == {WORKER: 1}
    revalidation = await world.registry.reference.revalidate(world.kit, trigger=imported.version)
    assert (revalidation.revalidated, revalidation.validated) == (1, 1)
    assert types_of(world, stream_of(WORKER))[2:] == ["NominationRevalidated", "WorkerValidated"]
