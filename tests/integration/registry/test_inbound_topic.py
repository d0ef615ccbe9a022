"""Regency systems' way in: NominationSubmitted on `lindung.nominations.inbound.v1`.

Every message gets exactly one reply on `lindung.nominations.replies.v1`, keyed like the request;
one the registry cannot read is also parked in `lindung.registry.dlq.v1`, and the consumer keeps
going. Sending a source_ref again corrects a rejected nomination or repeats the answer.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from libs.events import topics
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from services.registry.adapters.tables import eventstore, nominations
from tests.integration.registry.conftest import Registry
from tests.running import eventually, read_matching
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce

pytestmark = pytest.mark.integration

SYSTEM = "regency-12.17"
BIRTH = date(1985, 8, 17)


def submitted(registry: Registry, ref: str, nik: str, **fields: Any) -> Envelope:
    event = NominationSubmitted(
        **{
            "programme_code": registry.programme,
            "nik": nik,
            "full_name": "Sahat Malau",
            "birth_date": BIRTH,
            "sex": "L",
            "occupation": "nelayan",
            "regency_code": "12.17",
            "kecamatan": "Pangururan",
            "desa": "Parsaoran I",
            "sector": "non_sawit",
            "source_ref": ref,
            **fields,
        }
    )
    return envelope_of(event, SYSTEM, f"simpeg-samosir-{ref}")


def keyed(env: Envelope) -> tuple[bytes, bytes]:
    return env.payload["source_ref"].encode(), env.to_bytes()


@pytest.fixture(scope="module")
async def exchange(registry: Registry) -> dict[str, Any]:
    n, run = registry.niks, registry.run
    niks = {name: n.new(birth=BIRTH) for name in ("ok", "poor3", "mismatch", "repeat", "after")}
    await registry.import_p3ke(
        {niks["ok"]: 1, niks["poor3"]: 3, niks["mismatch"]: 2, niks["repeat"]: 1, niks["after"]: 1}
    )
    ref = {
        name: f"{run}-{name}" for name in ("ok", "poor3", "mismatch", "badnik", "noprog", "repeat", "after")
    }
    first = {
        "ok": submitted(registry, ref["ok"], niks["ok"]),
        "poor3": submitted(registry, ref["poor3"], niks["poor3"]),
        "mismatch": submitted(registry, ref["mismatch"], niks["mismatch"], birth_date=date(1985, 8, 18)),
        "badnik": submitted(registry, ref["badnik"], "12170517088"),
        "noprog": submitted(registry, ref["noprog"], n.new(), programme_code="NO-SUCH-PROGRAMME"),
        "repeat": submitted(registry, ref["repeat"], niks["repeat"], sex="l"),
    }
    good = submitted(registry, ref["after"], niks["after"])
    schema_bad = submitted(registry, f"{run}-schema", n.new())
    schema_bad = schema_bad.model_copy(
        update={"payload": {k: v for k, v in schema_bad.payload.items() if k != "nik"}}
    )
    version_bad = submitted(registry, f"{run}-v9", n.new()).model_copy(update={"schema_version": 9})
    # All on one partition would be simpler, but keys spread them: that is how regency systems send.
    await produce(
        registry.bootstrap,
        topics.NOMINATIONS_INBOUND,
        [keyed(e) for e in first.values()]
        + [
            (f"{run}-garbage".encode(), b"{not json"),
            (f"{run}-schema".encode(), schema_bad.to_bytes()),
            (f"{run}-v9".encode(), version_bad.to_bytes()),
            keyed(good),
        ],
    )
    # Then the same source_refs again: the mismatch corrected, the validated one resent unchanged.
    second = {
        "mismatch": submitted(registry, ref["mismatch"], niks["mismatch"]),
        "repeat": submitted(registry, ref["repeat"], niks["repeat"], sex="L"),
    }

    async def first_answered() -> bool:
        async with registry.rt.engine.connect() as conn:
            rows = await conn.execute(
                select(eventstore.events.c.aggregate_id).where(
                    eventstore.events.c.event_type.in_(["NominationAccepted", "NominationRejected"])
                )
            )
            return len(rows.all()) >= 10

    await eventually(first_answered, timeout_s=30)
    await produce(registry.bootstrap, topics.NOMINATIONS_INBOUND, [keyed(e) for e in second.values()])
    keys = {k.encode() for k in ref.values()} | {f"{run}-{x}".encode() for x in ("garbage", "schema", "v9")}
    await eventually(lambda: _count_replies(registry), timeout_s=30)
    await registry.drained()
    replies = await read_matching(registry.bootstrap, topics.NOMINATION_REPLIES, lambda r: r.key in keys, 12)
    dlq = await read_matching(
        registry.bootstrap, topics.dead_letter_topic("registry"), lambda r: r.key in keys, 3
    )
    return {
        "first": first,
        "second": second,
        "good": good,
        "ref": ref,
        "replies": replies,
        "dlq": dlq,
        "run": run,
    }


async def _count_replies(registry: Registry) -> bool:
    async with registry.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(eventstore.events.c.event_id).where(
                eventstore.events.c.event_type.in_(["NominationAccepted", "NominationRejected"])
            )
        )
        return len(rows.all()) >= 12


def replies_for(exchange: dict[str, Any], key: str) -> list[Envelope]:
    return [Envelope.from_bytes(r.value) for r in exchange["replies"] if r.key == key.encode()]


def codes(reply: Envelope) -> list[str]:
    return [r["code"] for r in reply.payload.get("reasons", [])]


async def test_each_nomination_gets_one_reply_keyed_like_the_request(exchange: dict[str, Any]) -> None:
    ref, first = exchange["ref"], exchange["first"]
    (ok,) = replies_for(exchange, ref["ok"])
    assert ok.event_type == "NominationAccepted"
    assert ok.payload["request_event_id"] == str(first["ok"].event_id)
    assert ok.causation_id == first["ok"].event_id and ok.correlation_id == first["ok"].correlation_id
    assert ok.payload["regency_system"] == SYSTEM and ok.payload["nomination_id"]
    (poor,) = replies_for(exchange, ref["poor3"])
    assert poor.event_type == "NominationRejected" and poor.payload["status"] == "rejected"
    assert codes(poor) == ["DECILE_NOT_ALLOWED"] and poor.payload["nomination_id"]
    assert "desil 3" in poor.payload["reasons"][0]["message"]
    (bad,) = replies_for(exchange, ref["badnik"])
    assert (
        bad.payload["status"] == "invalid"
        and "NIK_FORMAT" in codes(bad)
        and bad.payload["nomination_id"] is None
    )
    (noprog,) = replies_for(exchange, ref["noprog"])
    assert codes(noprog) == ["PROGRAMME_UNKNOWN"] and noprog.payload["status"] == "invalid"
    (after,) = replies_for(exchange, ref["after"])
    assert after.event_type == "NominationAccepted"  # the partition kept flowing past the bad messages


async def test_malformed_messages_are_answered_and_parked(exchange: dict[str, Any]) -> None:
    run = exchange["run"]
    (garbage,) = replies_for(exchange, f"{run}-garbage")
    assert garbage.payload["status"] == "malformed" and codes(garbage) == ["MESSAGE_MALFORMED"]
    assert garbage.payload["request_key"] == f"{run}-garbage"
    (schema,) = replies_for(exchange, f"{run}-schema")
    assert codes(schema) == ["MESSAGE_SCHEMA_INVALID"] and "nik" in schema.payload["reasons"][0]["message"]
    assert schema.payload["source_ref"] == f"{run}-schema"
    (version,) = replies_for(exchange, f"{run}-v9")
    assert codes(version) == ["MESSAGE_VERSION_UNSUPPORTED"]
    assert version.payload["reasons"][0]["details"] == {
        "event_type": "NominationSubmitted",
        "schema_version": "9",
        "supported": "1",
    }
    parked = {r.key.decode(): dict((k, v.decode()) for k, v in r.headers) for r in exchange["dlq"]}
    assert set(parked) == {f"{run}-garbage", f"{run}-schema", f"{run}-v9"}
    assert all(h["lindung-origin-topic"] == topics.NOMINATIONS_INBOUND for h in parked.values())
    assert parked[f"{run}-garbage"]["lindung-error-type"] == "ValidationError"
    assert parked[f"{run}-v9"]["lindung-error-type"] == "UnsupportedVersion"


async def test_a_source_ref_sent_again_corrects_a_rejection_or_repeats_the_answer(
    registry: Registry, exchange: dict[str, Any]
) -> None:
    ref = exchange["ref"]
    mismatch = replies_for(exchange, ref["mismatch"])
    assert [m.event_type for m in mismatch] == ["NominationRejected", "NominationAccepted"]
    assert codes(mismatch[0]) == ["NIK_BIRTHDATE_MISMATCH"]
    assert mismatch[1].payload["nomination_id"] == mismatch[0].payload["nomination_id"]
    repeat = replies_for(exchange, ref["repeat"])
    assert [(r.event_type, r.payload["repeated"]) for r in repeat] == [
        ("NominationAccepted", False),
        ("NominationAccepted", True),
    ]
    async with registry.rt.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(nominations.c.source_ref, nominations.c.status, nominations.c.corrections).where(
                    nominations.c.source_ref.in_([ref["mismatch"], ref["repeat"]])
                )
            )
        ).all()
    assert sorted(rows) == sorted([(ref["mismatch"], "validated", 1), (ref["repeat"], "validated", 0)])
    history = (await registry.http.get(f"/nominations/{mismatch[0].payload['nomination_id']}/history")).json()
    assert [h["event_type"] for h in history][-2:] == ["NominationCorrected", "WorkerValidated"]
    assert history[-2]["corrected_by"] == SYSTEM


async def test_replies_are_described_by_the_exported_schemas(exchange: dict[str, Any]) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "docs" / "schemas"
    for name in ("NominationSubmitted", "NominationAccepted", "NominationRejected"):
        schema = json.loads((root / f"{name}.v1.json").read_text())
        assert schema["x-event-type"] == name
    rejected = json.loads((root / "NominationRejected.v1.json").read_text())
    assert set(rejected["properties"]["status"]["enum"]) == {
        "rejected",
        "invalid",
        "malformed",
        "unprocessed",
    }
    assert Envelope.model_validate(exchange["first"]["ok"].model_dump()).producer == SYSTEM
