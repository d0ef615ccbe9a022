"""Garbage on every topic a Lindung service consumes, then one valid event behind it.

All six services run in-process on one database (a schema each) and the package's broker. For
every consumed topic the test publishes, with plain aiokafka and one key (so one partition):
random bytes, an empty value, invalid JSON, JSON that is not an envelope, a 2 MiB message, an
envelope of an unknown event type, and for each event type the topic's consumers apply: an
unknown schema version, a payload off the contract and a producer the topic does not allow
(plus, on the inbound nominations topic, a regency system nominating for another regency). Then
the valid events, on the same partition.

Expected, per consumer group of the topic (the handler's `interested` types decide):
- every message it cannot read, or reads but must refuse, is parked: a `dead_letters` row and a
  record on `lindung.<group>.dlq.v1` with the error and origin in headers;
- a type it does not consume is skipped (neither parked nor applied), except that on a topic
  written by systems outside Lindung (FOREIGN_TOPICS) a type no contract publishes there is the
  sender's mistake: parked, and answered on the inbound nominations topic;
- the valid events are applied (inbox outcome `applied`) and the group's committed offset moves
  past them: no partition stalls;
- on the inbound nominations topic each parked message is also answered (NominationRejected).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import TopicPartition
from sqlalchemy import select

from libs.events import decode, topics
from libs.events.catalog import event_types_on
from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import ClaimPaid, RegistrationAccepted, RegistrationRequested
from libs.events.contracts.claims import ClaimRecorded
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import EnrolledAtBPJS, EnrollmentFailed
from libs.events.contracts.registry import NominationSubmitted, WorkerValidated
from libs.events.envelope import Envelope
from libs.runtime.service import Runtime
from services.registry.adapters.tables import programmes
from tests.infra import Infra
from tests.integration.fuzz.conftest import (
    SERVICES,
    Publisher,
    Record,
    Sent,
    committed_offset,
    headers_of,
    read_topic,
)
from tests.running import eventually
from tests.support.envelopes import envelope_of
from tests.support.stack import in_process_stack

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
PROGRAMME = "DEMO-SUMUT-2026"  # allocation defines it from its YAML before the garbage
DEMO_YAML = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo-sumut-2026.yaml"
LARGE = 1024 * 1024  # parked and copied to the dead-letter topic like any other
OVERSIZED = 2 * 1024 * 1024  # more than the relay's producer may send (max_request_size 2 MiB)
ERROR_HEADERS = (
    "lindung-error-type",
    "lindung-error",
    "lindung-origin-topic",
    "lindung-origin-partition",
    "lindung-origin-offset",
    "lindung-consumer-group",
    "lindung-attempts",
)
# Every topic a service consumes, with the groups that read it.
CONSUMED: dict[str, tuple[str, ...]] = {
    topic: tuple(group for group, subscribed in topics.SUBSCRIPTIONS.items() if topic in subscribed)
    for topic in dict.fromkeys(t for subscribed in topics.SUBSCRIPTIONS.values() for t in subscribed)
}


def _identity() -> WorkerIdentity:
    return WorkerIdentity(nik="1217051708850001", full_name="Sahat Malau", birth_date="1985-08-17", sex="L")


def _valid_events(
    topic: str, ref: str, request: RegistrationRequested | None = None
) -> list[tuple[DomainEvent, str]]:
    """The valid events sent after the garbage on `topic` (event, producer): one of each type a
    consumer of the topic applies. BPJS's answer needs a `request` enrollment really sent (an
    answer to no request is parked, rightly)."""
    worker = f"w-fuzz-{ref}"
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    if topic == topics.ALLOCATION:
        return [
            (
                ProgrammeDefined(
                    programme_code=f"FUZZ-{RUN}",
                    name="Fuzz programme",
                    year=2026,
                    funder=Funder.APBD_PROVINSI,
                    jurisdiction="12",
                    premium_jkk=10_000,
                    premium_jkm=6_800,
                    months=12,
                    coverage_start=start,
                    coverage_end=end,
                    budget_cap=1_000_000_000,
                    allowed_deciles=[1, 2],
                    age_min=15,
                    age_max=65,
                    occupations=["petani"],
                    requires_decree=True,
                    quotas=[QuotaCell(regency_code="12.17", sector="non_sawit", seats=10)],
                ),
                "allocation",
            )
        ]
    if topic == topics.ENROLLMENT:
        common = {"worker_id": worker, "programme_code": PROGRAMME, "regency_code": "12.17"}
        return [
            (
                EnrolledAtBPJS(
                    **common,
                    funder=Funder.APBD_PROVINSI,
                    kpj=f"KPJ{ref}",
                    coverage_start=start,
                    coverage_end=end,
                    request_id=f"reg-{ref}",
                ),
                "enrollment",
            ),
            (
                EnrollmentFailed(
                    **common,
                    reason_code="NIK_NOT_FOUND",
                    reason="NIK tidak ditemukan",
                    request_id=f"reg-{ref}",
                ),
                "enrollment",
            ),
        ]
    if topic == topics.REGISTRY:
        event = WorkerValidated(
            worker_id=worker,
            nomination_id=f"nom-{ref}",
            programme_code=PROGRAMME,
            identity=_identity(),
            occupation="nelayan",
            regency_code="12.17",
            sector="non_sawit",
            decile=1,
            funder=Funder.APBD_PROVINSI,
            poverty_source="P3KE",
            reference_version="p3ke-fuzz",
            nominated_at=datetime(2026, 1, 5, tzinfo=UTC),
        )
        return [(event, "registry")]
    if topic == topics.NOMINATIONS_INBOUND:
        event = NominationSubmitted(
            programme_code=PROGRAMME,
            nik="1217051708850002",
            full_name="Sahat Malau",
            birth_date=date(1985, 8, 17),
            sex="L",
            occupation="nelayan",
            regency_code="12.17",
            kecamatan="Pangururan",
            desa="Parsaoran I",
            sector="non_sawit",
            source_ref=ref,
        )
        return [(event, "regency-12.17")]
    if topic == topics.BPJS_REQUESTS:
        event = RegistrationRequested(
            request_id=f"reg-{ref}",
            attempt=1,
            worker_id=worker,
            programme_code=PROGRAMME,
            identity=_identity(),
            funder=Funder.APBD_PROVINSI,
            regency_code="12.17",
            sector="non_sawit",
            coverage_start=start,
            coverage_end=end,
        )
        return [(event, "enrollment")]
    if topic == topics.BPJS_RESULTS:
        assert request is not None
        event = RegistrationAccepted(
            request_id=request.request_id,
            worker_id=request.worker_id,
            kpj=f"KPJ{ref}",
            registered_at=datetime(2026, 1, 6, tzinfo=UTC),
            attempt=request.attempt,
        )
        return [(event, "bpjs")]
    if topic == topics.BPJS_CLAIMS:
        event = ClaimPaid(
            claim_id=f"claim-{ref}",
            kpj=f"KPJ{ref}",
            nik="1217051708850003",
            programme="JKK",
            benefit_kind="MEDICAL",
            incident_date=date(2026, 2, 1),
            paid_date=date(2026, 2, 10),
            amount=1_000_000,
        )
        return [(event, "bpjs")]
    if topic == topics.CLAIMS:
        event = ClaimRecorded(
            claim_id=f"claim-{ref}",
            worker_id=None,
            kpj=f"KPJ{ref}",
            programme_code=None,
            regency_code=None,
            programme="JKK",
            benefit_kind="MEDICAL",
            incident_date=date(2026, 2, 1),
            paid_date=date(2026, 2, 10),
            amount=1_000_000,
        )
        return [(event, "claims")]
    raise AssertionError(f"no valid event for {topic}")


@dataclass(frozen=True)
class Message:
    """One message of the plan: its kind, bytes, and the event type it claims (None: unreadable)."""

    kind: str
    value: bytes
    event_type: str | None = None
    envelope: Envelope | None = None


def garbage(
    topic: str, ref: str, rng: random.Random, request: RegistrationRequested | None = None
) -> list[Message]:
    """The bad messages for `topic`, in the order they are sent."""
    messages = [
        Message("random bytes", rng.randbytes(512)),
        Message("empty value", b""),
        Message("invalid JSON", b'{"event_type": "NominationSubmitted", "payload": {"nik": '),
        Message("JSON, not an envelope", json.dumps({"hello": "dunia", "n": [1, 2, 3]}).encode()),
        Message("large (1 MiB)", json.dumps({"padding": "x" * LARGE}).encode()),
    ]
    for event, producer in _valid_events(topic, f"{ref}-bad", request):
        good = envelope_of(event, producer, f"fuzz-{ref}")
        kind = event.event_type
        off_contract = dict(good.payload)
        off_contract.pop(next(iter(off_contract)))  # the first field is required in every contract
        off_contract["unexpected_field"] = True  # and contracts forbid extra fields
        changes: dict[str, dict[str, Any]] = {
            f"{kind}: unknown schema_version": {"schema_version": 99},
            f"{kind}: payload off the contract": {"payload": off_contract},
            f"{kind}: producer not allowed": {"producer": "intruder"},
        }
        if topic == topics.NOMINATIONS_INBOUND:
            changes[f"{kind}: regency system out of scope"] = {"producer": "regency-12.18"}
        for name, change in changes.items():
            # A message of its own: a new event id (the inbox and the replies are per event id).
            env = good.model_copy(update={**change, "event_id": uuid.uuid4()})
            messages.append(Message(name, env.to_bytes(), kind, env))
        # Without an id a re-sent message could not be told from a new one; without a zone its
        # time means nothing: both refused as unreadable, like any other envelope off the shape.
        for name, drop in ((f"{kind}: no event_id", "event_id"), (f"{kind}: no occurred_at", "occurred_at")):
            written = json.loads(good.to_bytes())
            del written[drop]
            messages.append(Message(name, json.dumps(written).encode()))
    unknown = envelope_of(_valid_events(topic, ref, request)[0][0], "allocation", f"fuzz-{ref}")
    unknown = unknown.model_copy(update={"event_type": "NoSuchEventHappened"})
    messages.append(Message("unknown event_type", unknown.to_bytes(), unknown.event_type, unknown))
    return messages


@dataclass
class Stack:
    runtimes: dict[str, Runtime]
    bootstrap: str


@dataclass
class Exchange:
    """What was sent to every topic, and what came back."""

    stack: Stack
    sent: dict[str, list[tuple[Message, Sent]]] = field(default_factory=dict)
    valid: dict[str, list[tuple[Envelope, Sent]]] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)

    def interested(self, group: str) -> frozenset[str]:
        consumer = self.stack.runtimes[group].consumer
        assert consumer is not None
        return consumer.handler.interested

    def must_park(self, group: str, topic: str, message: Message) -> bool:
        """Unreadable messages, readable ones of a type `group` takes, and on a foreign topic any
        type no contract publishes there."""
        if message.event_type is None or message.event_type in self.interested(group):
            return True
        return topic in topics.FOREIGN_TOPICS and message.event_type not in event_types_on(topic)

    def expected_parked(self, group: str, topic: str) -> list[tuple[Message, Sent]]:
        return [(m, s) for m, s in self.sent[topic] if self.must_park(group, topic, m)]

    def expected_skipped(self, group: str, topic: str) -> list[tuple[Message, Sent]]:
        return [(m, s) for m, s in self.sent[topic] if not self.must_park(group, topic, m)]


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    async with in_process_stack(infra, "lindung_fz", SERVICES, partitions=None, schemas=SERVICES) as started:
        yaml_text = DEMO_YAML.read_bytes()
        answer = await started.call(
            "allocation",
            "POST",
            "/programmes",
            content=yaml_text,
            headers={"content-type": "application/yaml"},
        )
        assert answer.status_code == 201, answer.text
        yield Stack(started.runtimes, infra.bootstrap)


async def _inbox_outcome(rt: Runtime, event_id: uuid.UUID) -> str | None:
    inbox = rt.definition.tables.inbox
    async with rt.engine.connect() as conn:
        row = (await conn.execute(select(inbox.c.outcome).where(inbox.c.event_id == event_id))).first()
    return None if row is None else str(row.outcome)


async def _dead_offsets(rt: Runtime, topic: str, partition: int) -> dict[int, str]:
    dead = rt.definition.tables.dead_letters
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            select(dead.c.offset, dead.c.error_type).where(
                dead.c.topic == topic, dead.c.partition == partition
            )
        )
        return {int(r.offset): str(r.error_type) for r in rows}


@pytest.fixture(scope="module")
async def exchange(stack: Stack) -> Exchange:
    # The programme allocation defined reaches the registry before nominations name it.
    async def registry_knows_programme() -> bool:
        async with stack.runtimes["registry"].engine.connect() as conn:
            row = await conn.execute(select(programmes).where(programmes.c.programme_code == PROGRAMME))
            return row.first() is not None

    await eventually(registry_knows_programme, timeout_s=30)
    result = Exchange(stack)
    rng = random.Random(2026)
    publisher = Publisher(stack.bootstrap)
    request: RegistrationRequested | None = None
    # The registry topic first: its valid WorkerValidated is seated, and enrollment asks BPJS to
    # register the worker; the valid answer on the results topic answers that request.
    for topic in sorted(CONSUMED, key=lambda t: (t != topics.REGISTRY, t == topics.BPJS_RESULTS)):
        if topic == topics.BPJS_RESULTS:
            request = await _registration_requested(stack.bootstrap, result.valid[topics.REGISTRY][0][0])
        ref = f"fuzz-{RUN}-{topic.split('.')[1]}-{topic.split('.')[2]}"
        key = ref.encode()
        result.keys[topic] = key
        bad = garbage(topic, ref, rng, request)
        valid = [(envelope_of(e, p, f"fuzz-{ref}"), e) for e, p in _valid_events(topic, ref, request)]
        sent = await publisher.publish(
            topic,
            [(m.kind, key, m.value) for m in bad] + [("valid", key, env.to_bytes()) for env, _ in valid],
        )
        assert len({s.partition for s in sent}) == 1
        result.sent[topic] = list(zip(bad, sent[: len(bad)], strict=True))
        result.valid[topic] = [(env, s) for (env, _), s in zip(valid, sent[len(bad) :], strict=True)]
    kinds = Counter(s.kind.split(": ")[-1] for s in publisher.sent)
    print(f"[kafka fuzz] published {len(publisher.sent)} messages on {len(CONSUMED)} topics: {dict(kinds)}")
    return result


async def _registration_requested(bootstrap: str, validated: Envelope) -> RegistrationRequested:
    """The registration request enrollment sent for the worker of `validated`."""
    worker = validated.payload["worker_id"]

    def asked(record: Record) -> bool:
        envelope = Envelope.from_bytes(record.value or b"")
        return envelope.event_type == "RegistrationRequested" and envelope.payload["worker_id"] == worker

    found = await read_topic(
        bootstrap, topics.BPJS_REQUESTS, lambda r: r.key == worker.encode() and asked(r), 1
    )
    assert found, f"enrollment sent no RegistrationRequested for {worker}"
    request = decode(Envelope.from_bytes(found[0].value or b""))
    assert isinstance(request, RegistrationRequested)
    return request


def _groups() -> list[tuple[str, str]]:
    return [(group, topic) for topic, groups in CONSUMED.items() for group in groups]


@pytest.mark.parametrize(("group", "topic"), _groups(), ids=[f"{g}<-{t}" for g, t in _groups()])
async def test_valid_events_behind_the_garbage_are_applied(
    exchange: Exchange, group: str, topic: str
) -> None:
    rt = exchange.stack.runtimes[group]
    valid = exchange.valid[topic]
    for env, _ in valid:
        if env.event_type in exchange.interested(group):

            async def applied(env: Envelope = env) -> str | None:
                return await _inbox_outcome(rt, env.event_id)

            assert await eventually(applied, timeout_s=30) == "applied", env.event_type
    last = valid[-1][1]
    tp = TopicPartition(topic, last.partition)

    async def committed_past() -> bool:
        return await committed_offset(exchange.stack.bootstrap, group, tp) > last.offset

    await eventually(committed_past, timeout_s=30)


@pytest.mark.parametrize(("group", "topic"), _groups(), ids=[f"{g}<-{t}" for g, t in _groups()])
async def test_bad_messages_are_parked_with_error_headers(exchange: Exchange, group: str, topic: str) -> None:
    rt = exchange.stack.runtimes[group]
    parked = exchange.expected_parked(group, topic)
    skipped = exchange.expected_skipped(group, topic)
    partition = exchange.valid[topic][0][1].partition
    want = {s.offset: m.kind for m, s in parked}

    async def all_parked() -> dict[int, str] | None:
        found = await _dead_offsets(rt, topic, partition)
        mine = {o: e for o, e in found.items() if o in want or o in {s.offset for _, s in skipped}}
        return mine if set(mine) >= set(want) else None

    rows = await eventually(all_parked, timeout_s=30)
    assert set(rows) == set(want), f"parked {rows}, expected {want}"
    for message, sent in skipped:
        assert message.envelope is not None and sent.offset not in rows
        assert await _inbox_outcome(rt, message.envelope.event_id) is None, f"{message.kind} was applied"

    key = exchange.keys[topic]
    dlq = await read_topic(
        exchange.stack.bootstrap,
        topics.dead_letter_topic(group),
        lambda r: r.key == key and headers_of(r).get("lindung-origin-topic") == topic,
        expected=len(want),
    )
    by_offset = {int(headers_of(r)["lindung-origin-offset"]): r for r in dlq}
    assert set(by_offset) == set(want), f"{group}: DLQ has {sorted(by_offset)}, expected {want}"
    for offset, record in by_offset.items():
        headers = headers_of(record)
        assert all(headers.get(h) for h in ERROR_HEADERS), headers
        assert headers["lindung-consumer-group"] == group
        assert headers["lindung-origin-partition"] == str(partition)
        original = next(m for m, s in parked if s.offset == offset)
        assert record.value == original.value, f"{want[offset]}: the DLQ record is not the original bytes"
    print(
        f"[kafka fuzz] {group} <- {topic}: {len(want)} parked "
        f"({Counter(h['lindung-error-type'] for h in map(headers_of, dlq))}), {len(skipped)} skipped"
    )


async def test_inbound_nominations_get_a_rejection_for_each_parked_message(exchange: Exchange) -> None:
    topic = topics.NOMINATIONS_INBOUND
    key = exchange.keys[topic]
    parked = exchange.expected_parked("registry", topic)
    replies = await read_topic(
        exchange.stack.bootstrap, topics.NOMINATION_REPLIES, lambda r: r.key == key, expected=len(parked) + 1
    )
    answers = [Envelope.from_bytes(r.value or b"") for r in replies]
    valid_id = exchange.valid[topic][0][0].event_id
    to_valid = [a for a in answers if a.payload.get("request_event_id") == str(valid_id)]
    assert len(to_valid) == 1, "the valid nomination behind the garbage is answered once"
    rejected = [a for a in answers if a not in to_valid]
    assert len(rejected) == len(parked), [a.payload for a in rejected]
    statuses = Counter(a.payload["status"] for a in rejected)
    codes = Counter(r["code"] for a in rejected for r in a.payload["reasons"])
    assert all(a.event_type == "NominationRejected" for a in rejected)
    assert statuses == {"malformed": len(parked) - 2, "invalid": 2}, statuses
    assert codes["PRODUCER_NOT_ALLOWED"] == 1 and codes["PRODUCER_OUT_OF_SCOPE"] == 1, codes
    print(f"[kafka fuzz] inbound replies: {dict(statuses)} {dict(codes)}; valid: {to_valid[0].event_type}")


async def test_an_oversized_message_is_parked_without_stalling_the_outbox(exchange: Exchange) -> None:
    # A 2 MiB message is beyond what the relay may publish: its dead-letter copy is cut
    # (libs.messaging.consumer.dead_letter_copy) and the outbox keeps flowing.
    claims = exchange.stack.runtimes["claims"]
    ref = f"fuzz-{RUN}-oversized"
    ((event, producer),) = _valid_events(topics.BPJS_CLAIMS, ref)
    valid = envelope_of(event, producer, ref)
    big = json.dumps({"padding": "x" * OVERSIZED}).encode()
    oversized, _ = await Publisher(exchange.stack.bootstrap).publish(
        topics.BPJS_CLAIMS,
        [("oversized (2 MiB)", ref.encode(), big), ("valid", ref.encode(), valid.to_bytes())],
    )
    print(f"[kafka fuzz] oversized: the broker took {oversized.size} bytes at offset {oversized.offset}")

    async def applied() -> str | None:
        return await _inbox_outcome(claims, valid.event_id)

    assert await eventually(applied, timeout_s=30) == "applied"  # the partition itself keeps going
    rows = await _dead_offsets(claims, topics.BPJS_CLAIMS, oversized.partition)
    assert oversized.offset in rows  # and the message is parked in the table

    async def outbox_drained() -> bool:
        return await claims.relay.unsent() == 0

    await eventually(outbox_drained, timeout_s=10)

    # The dead-letter copy is cut to what the relay may send and says what it was.
    (copy,) = await read_topic(
        exchange.stack.bootstrap,
        topics.dead_letter_topic("claims"),
        lambda r: (
            headers_of(r).get("lindung-origin-offset") == str(oversized.offset)
            and headers_of(r).get("lindung-origin-partition") == str(oversized.partition)
            and headers_of(r).get("lindung-origin-topic") == topics.BPJS_CLAIMS
        ),
        expected=1,
    )
    headers = headers_of(copy)
    assert headers["lindung-value-truncated-from"] == str(len(big))
    assert headers["lindung-value-sha256"] == hashlib.sha256(big).hexdigest()
    assert copy.value is not None and big.startswith(copy.value) and len(copy.value) < len(big)
