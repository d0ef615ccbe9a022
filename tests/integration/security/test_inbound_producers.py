"""Who may publish nominations on `lindung.nominations.inbound.v1`: a regency system, for its own
regency only (libs/events/topics.py).

Samosir's system (`regency-12.17`) nominating a Medan worker, and BPJS publishing a nomination,
are parked in `lindung.registry.dlq.v1` with the PRODUCER_* code in the headers, answered with a
NominationRejected (status `invalid`) and never decided; Samosir's own nomination is applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from libs.events import topics
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.events.topics import PRODUCER_NOT_ALLOWED, PRODUCER_OUT_OF_SCOPE
from tests.integration.security.conftest import PROGRAMME, RUN, SAMOSIR, Person, Stack
from tests.running import eventually, read_matching
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


def submitted(person: Person, producer: str, ref: str) -> Envelope:
    fields = person.nomination(source_ref=ref)
    event = NominationSubmitted(**fields)
    return envelope_of(event, producer, f"{producer}-{ref}")


@pytest.fixture(scope="module")
async def exchange(stack: Stack) -> dict[str, Any]:
    people = stack.people
    sent = {
        # Samosir's system, its own worker: applied.
        "own": submitted(people["samosir_inbound"], f"regency-{SAMOSIR}", f"{RUN}-own"),
        # Samosir's system nominating for Medan (the payload says 12.71): out of its scope.
        "scope": submitted(people["medan_inbound"], f"regency-{SAMOSIR}", f"{RUN}-scope"),
        # BPJS nominating (even for Samosir): not a producer of this topic at all.
        "bpjs": submitted(people["samosir_from_bpjs"], "bpjs", f"{RUN}-bpjs"),
    }
    refs = {name: env.payload["source_ref"] for name, env in sent.items()}
    await produce(
        stack.bootstrap,
        topics.NOMINATIONS_INBOUND,
        [(ref.encode(), sent[name].to_bytes()) for name, ref in refs.items()],
    )

    async def all_answered() -> bool:
        sql = (
            "SELECT count(*) FROM registry.events WHERE event_type IN ('NominationAccepted', "
            "'NominationRejected') AND payload->>'source_ref' = ANY(:refs)"
        )
        return int(await stack.scalar(sql, refs=list(refs.values()))) == 3

    await eventually(all_answered, timeout_s=30)
    keys = {ref.encode() for ref in refs.values()}
    replies = await read_matching(stack.bootstrap, topics.NOMINATION_REPLIES, lambda r: r.key in keys, 3)
    dlq = await read_matching(
        stack.bootstrap, topics.dead_letter_topic("registry"), lambda r: r.key in keys, 2
    )
    return {"sent": sent, "refs": refs, "replies": replies, "dlq": dlq}


def reply_to(exchange: dict[str, Any], name: str) -> Envelope:
    (found,) = [
        Envelope.from_bytes(r.value) for r in exchange["replies"] if r.key == exchange["refs"][name].encode()
    ]
    return found


async def test_refused_producers_are_parked_with_their_code(exchange: dict[str, Any]) -> None:
    refs = exchange["refs"]
    parked = {r.key.decode(): {k: v.decode() for k, v in r.headers} for r in exchange["dlq"]}
    assert set(parked) == {refs["scope"], refs["bpjs"]}  # the regency's own nomination is not parked
    for name, code in (("scope", PRODUCER_OUT_OF_SCOPE), ("bpjs", PRODUCER_NOT_ALLOWED)):
        headers = parked[refs[name]]
        assert headers["lindung-error-type"] == "ProducerRefused"
        assert headers["lindung-error"].startswith(f"ProducerRefused: {code}:")
        assert headers["lindung-origin-topic"] == topics.NOMINATIONS_INBOUND
        assert headers["lindung-consumer-group"] == "registry"
        assert headers["lindung-attempts"] == "1"
    # The parked message is the one sent, byte for byte (it can be re-driven once allowed).
    by_key = {r.key.decode(): r.value for r in exchange["dlq"]}
    assert Envelope.from_bytes(by_key[refs["scope"]]).event_id == exchange["sent"]["scope"].event_id


async def test_refused_producers_are_answered_and_nothing_is_decided(
    stack: Stack, exchange: dict[str, Any]
) -> None:
    scope, bpjs = reply_to(exchange, "scope"), reply_to(exchange, "bpjs")
    for reply, code, producer in (
        (scope, PRODUCER_OUT_OF_SCOPE, f"regency-{SAMOSIR}"),
        (bpjs, PRODUCER_NOT_ALLOWED, "bpjs"),
    ):
        assert reply.event_type == "NominationRejected"
        assert reply.payload["status"] == "invalid" and reply.payload["nomination_id"] is None
        assert [r["code"] for r in reply.payload["reasons"]] == [code]
        assert reply.payload["regency_system"] == producer
        assert reply.payload["programme_code"] == PROGRAMME
    assert scope.payload["reasons"][0]["details"] == {
        "topic": topics.NOMINATIONS_INBOUND,
        "producer": f"regency-{SAMOSIR}",
        "field": "regency_code",
        "allowed": SAMOSIR,
        "sent": "12.71",
    }
    for key in ("medan_inbound", "samosir_from_bpjs"):
        worker = stack.people[key].worker_id
        assert (
            await stack.scalar("SELECT count(*) FROM registry.nominations WHERE worker_id = :w", w=worker)
            == 0
        )
    parked = await stack.rows(
        "SELECT error_type FROM registry.dead_letters WHERE event_id = ANY(:ids)",
        ids=[exchange["sent"][n].event_id for n in ("scope", "bpjs")],
    )
    assert [r.error_type for r in parked] == ["ProducerRefused", "ProducerRefused"]
    outcomes = await stack.rows(
        "SELECT outcome FROM registry.inbox WHERE event_id = ANY(:ids)",
        ids=[exchange["sent"][n].event_id for n in ("scope", "bpjs")],
    )
    assert [r.outcome for r in outcomes] == ["parked", "parked"]


async def test_a_regency_system_nominating_for_its_own_regency_is_applied(
    stack: Stack, exchange: dict[str, Any]
) -> None:
    own = reply_to(exchange, "own")
    assert own.event_type == "NominationAccepted", own.payload
    rows = await stack.rows(
        "SELECT regency_code, channel, submitted_by, status FROM registry.nominations"
        " WHERE nomination_id = :n",
        n=own.payload["nomination_id"],
    )
    assert [tuple(r) for r in rows] == [(SAMOSIR, "kafka", f"regency-{SAMOSIR}", "validated")]
    assert not any(r.key == exchange["refs"]["own"].encode() for r in exchange["dlq"])
