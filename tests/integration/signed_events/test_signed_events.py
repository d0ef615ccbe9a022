"""Signed events through the real services (docs/security.md, "Signed events").

A ClaimPaid on BPJS's claims topic that names `bpjs` but is unsigned, signed by an unknown key,
signed by the enrollment service's key, or altered after signing is parked with its SIGNATURE_*
code and changes nothing the claims API shows; the one BPJS's key signed is applied. Samosir's
key nominating for Medan is parked and answered (PRODUCER_OUT_OF_SCOPE), and so is the same
message claiming to come from Medan's system (SIGNATURE_WRONG_PRODUCER): nothing is registered.
A BPJS key rotation: both keys apply during it, the old one is refused once the keyring drops it.
A whole flow (HTTP nomination → enrolled at the simulator → claim) runs with every service signed,
and every record the services published verifies against the keyring as its producer's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.audit.kafka_source import read_records
from libs.events import topics
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.events.signing import (
    SIGNATURE_INVALID,
    SIGNATURE_KEY_UNKNOWN,
    SIGNATURE_MISSING,
    SIGNATURE_WRONG_PRODUCER,
    Keyring,
    SignatureRefused,
    Signer,
    check_producer,
)
from libs.events.topics import PRODUCER_OUT_OF_SCOPE
from libs.nik import compose_nik
from tests.integration.signed_events.conftest import (
    MEDAN,
    PEOPLE,
    PROGRAMME,
    RUN,
    SAMOSIR,
    Stack,
    expect,
)
from tests.running import eventually, read_matching
from tests.support.envelopes import envelope_of

pytestmark = pytest.mark.integration


def claim_paid(name: str, amount: int = 2_500_000) -> tuple[Envelope, str]:
    """A ClaimPaid as BPJS's gateway writes it (for a participant Lindung does not know: the claims
    service records it all the same, flagged), and its claim id."""
    serial = 400 + sum(name.encode()) % 500
    event = ClaimPaid(
        claim_id=f"CLM-{RUN}-{name}",
        kpj=f"KPJ{RUN}{name}"[:40],
        nik=compose_nik(SAMOSIR, 3, date(1979, 3, 4), "L", serial),
        programme="JKK",
        benefit_kind="MEDICAL",
        incident_date=date(2026, 5, 2),
        paid_date=date(2026, 5, 20),
        amount=amount,
    )
    return envelope_of(event, "bpjs", f"bpjs-claim-{event.claim_id}"), event.claim_id


def kpj_of(envelope: Envelope) -> str:
    return str(envelope.payload["kpj"])


async def parked_in(stack: Stack, group: str, keys: set[str]) -> dict[str, dict[str, str]]:
    """The dead-letter records of `group` with those Kafka keys: their headers, by key."""
    wanted = {k.encode() for k in keys}
    found = await read_matching(
        stack.bootstrap, topics.dead_letter_topic(group), lambda r: r.key in wanted, len(keys)
    )
    return {r.key.decode(): {k: v.decode() for k, v in r.headers} for r in found}


async def claim(stack: Stack, claim_id: str) -> int:
    return (await stack.call("claims", "GET", f"/claims/{claim_id}")).status_code


async def applied(stack: Stack, claim_id: str) -> dict[str, Any]:
    async def found() -> Any:
        reply = await stack.call("claims", "GET", f"/claims/{claim_id}")
        return reply.json() if reply.status_code == 200 else None

    result: dict[str, Any] = await eventually(found, timeout_s=30)
    return result


def assert_parked(headers: dict[str, str], code: str, topic: str, group: str) -> None:
    assert headers["lindung-error-type"] == "SignatureRefused", headers
    assert headers["lindung-error"].startswith(f"SignatureRefused: {code}: "), headers
    assert headers["lindung-origin-topic"] == topic
    assert headers["lindung-consumer-group"] == group
    assert headers["lindung-attempts"] == "1"
    # The copy is signed by the service that parked it; the sender's headers keep other names.
    assert headers["lindung-key-id"].startswith(f"{group}.")


async def test_forged_claims_are_parked_and_change_nothing(stack: Stack) -> None:
    keys = stack.keys
    unsigned, unsigned_id = claim_paid("unsigned")
    unknown, unknown_id = claim_paid("unknown")
    by_enrollment, by_enrollment_id = claim_paid("enrollment")
    altered, altered_id = claim_paid("altered", amount=90_000_000)
    genuine, genuine_id = claim_paid("genuine")
    forged = {
        kpj_of(unsigned): SIGNATURE_MISSING,
        kpj_of(unknown): SIGNATURE_KEY_UNKNOWN,
        kpj_of(by_enrollment): SIGNATURE_WRONG_PRODUCER,
        kpj_of(altered): SIGNATURE_INVALID,
    }
    await stack.send(topics.BPJS_CLAIMS, unsigned, kpj_of(unsigned), None)
    await stack.send(topics.BPJS_CLAIMS, unknown, kpj_of(unknown), Signer.generate(f"bpjs.{RUN}.forged"))
    await stack.send(topics.BPJS_CLAIMS, by_enrollment, kpj_of(by_enrollment), keys.services["enrollment"])
    # BPJS's real signature over the claim of 2.5 million, sent with 90 million in it.
    honest = altered.model_copy(update={"payload": {**altered.payload, "amount": 2_500_000}})
    await stack.send(topics.BPJS_CLAIMS, altered, kpj_of(altered), keys.bpjs_new, value=honest.to_bytes())
    await stack.send(topics.BPJS_CLAIMS, genuine, kpj_of(genuine), keys.bpjs_new)

    parked = await parked_in(stack, "claims", set(forged))
    assert set(parked) == set(forged)
    for kpj, code in forged.items():
        assert_parked(parked[kpj], code, topics.BPJS_CLAIMS, "claims")
    assert parked[kpj_of(by_enrollment)]["lindung-origin-key-id"] == keys.services["enrollment"].key_id

    paid = await applied(stack, genuine_id)
    assert (paid["claim_id"], paid["amount"]) == (genuine_id, 2_500_000)
    for claim_id in (unsigned_id, unknown_id, by_enrollment_id, altered_id):
        assert await claim(stack, claim_id) == 404, claim_id


def submitted(fields: dict[str, Any], producer: str) -> Envelope:
    event = NominationSubmitted(**fields)
    return envelope_of(event, producer, f"{producer}-{fields['source_ref']}")


async def nominations_with(stack: Stack, source_ref: str) -> list[Any]:
    body = await expect(
        await stack.call("registry", "GET", "/nominations", params={"source_ref": source_ref}), 200
    )
    items: list[Any] = body["items"]
    return items


async def test_a_regency_key_speaks_for_its_own_regency_only(stack: Stack) -> None:
    samosir_key, medan_key = stack.keys.regency[SAMOSIR], stack.keys.regency[MEDAN]
    refs = {name: f"{RUN}-{name}" for name in ("scope", "wrong_producer", "own")}
    stranger = PEOPLE["medan_by_samosir"]
    # Samosir's system, under its own name, nominating a Medan worker: signed, but out of scope.
    scope = submitted(stranger.nomination(source_ref=refs["scope"]), f"regency-{SAMOSIR}")
    # The same, claiming to be Medan's system: Samosir's key does not speak for Medan.
    wrong = submitted(stranger.nomination(source_ref=refs["wrong_producer"]), f"regency-{MEDAN}")
    # Medan's system, its own worker, its own key: applied.
    own = submitted(PEOPLE["medan_own"].nomination(source_ref=refs["own"]), f"regency-{MEDAN}")
    await stack.send(topics.NOMINATIONS_INBOUND, scope, refs["scope"], samosir_key)
    await stack.send(topics.NOMINATIONS_INBOUND, wrong, refs["wrong_producer"], samosir_key)
    await stack.send(topics.NOMINATIONS_INBOUND, own, refs["own"], medan_key)

    keys = {ref.encode() for ref in refs.values()}
    records = await read_matching(stack.bootstrap, topics.NOMINATION_REPLIES, lambda r: r.key in keys, 3)
    replies = {r.key.decode(): Envelope.from_bytes(r.value) for r in records}
    assert set(replies) == set(refs.values())
    assert replies[refs["own"]].event_type == "NominationAccepted", replies[refs["own"]].payload
    for name, code in (("scope", PRODUCER_OUT_OF_SCOPE), ("wrong_producer", SIGNATURE_WRONG_PRODUCER)):
        reply = replies[refs[name]]
        assert reply.event_type == "NominationRejected"
        assert reply.payload["status"] == "invalid" and reply.payload["nomination_id"] is None
        assert [r["code"] for r in reply.payload["reasons"]] == [code]
    assert replies[refs["wrong_producer"]].payload["reasons"][0]["details"] == {
        "key_id": samosir_key.key_id,
        "producer": f"regency-{SAMOSIR}",
        "claimed": f"regency-{MEDAN}",
    }

    parked = await parked_in(stack, "registry", {refs["scope"], refs["wrong_producer"]})
    assert_parked(
        parked[refs["wrong_producer"]], SIGNATURE_WRONG_PRODUCER, topics.NOMINATIONS_INBOUND, "registry"
    )
    assert parked[refs["scope"]]["lindung-error"].startswith(f"ProducerRefused: {PRODUCER_OUT_OF_SCOPE}:")

    assert await nominations_with(stack, refs["scope"]) == []
    assert await nominations_with(stack, refs["wrong_producer"]) == []
    (registered,) = await nominations_with(stack, refs["own"])
    assert registered["status"] == "validated", registered
    listed = await expect(
        await stack.call(
            "registry", "GET", "/nominations", params={"programme": PROGRAMME, "regency": MEDAN}
        ),
        200,
    )
    assert [n["source_ref"] for n in listed["items"]] == [refs["own"]]


async def test_a_bpjs_key_rotation_keeps_both_keys_until_the_old_one_is_removed(stack: Stack) -> None:
    keys = stack.keys
    with_old, with_old_id = claim_paid("rotation-old")
    with_new, with_new_id = claim_paid("rotation-new")
    await stack.send(topics.BPJS_CLAIMS, with_old, kpj_of(with_old), keys.bpjs_old)
    await stack.send(topics.BPJS_CLAIMS, with_new, kpj_of(with_new), keys.bpjs_new)
    await applied(stack, with_old_id)
    await applied(stack, with_new_id)

    # Nothing signed with the old key is left to read: it leaves the keyring, claims restarts.
    keys.write_keyring(with_old_bpjs_key=False)
    await stack.restart("claims")
    late_old, late_old_id = claim_paid("rotation-late-old")
    late_new, late_new_id = claim_paid("rotation-late-new")
    await stack.send(topics.BPJS_CLAIMS, late_old, kpj_of(late_old), keys.bpjs_old)
    await stack.send(topics.BPJS_CLAIMS, late_new, kpj_of(late_new), keys.bpjs_new)

    parked = await parked_in(stack, "claims", {kpj_of(late_old)})
    assert_parked(parked[kpj_of(late_old)], SIGNATURE_KEY_UNKNOWN, topics.BPJS_CLAIMS, "claims")
    await applied(stack, late_new_id)
    assert await claim(stack, late_old_id) == 404


async def test_the_whole_flow_runs_signed_and_every_service_signs(stack: Stack) -> None:
    person = PEOPLE["flow"]
    answer = await expect(await stack.call("registry", "POST", "/nominations", json=person.nomination()), 201)
    assert answer["status"] == "validated", answer
    worker_id = answer["worker_id"]

    async def enrolled() -> Any:
        reply = await stack.call("enrollment", "GET", f"/enrollments/{worker_id}")
        rows = reply.json() if reply.status_code == 200 else []
        return next((r for r in rows if r["status"] == "enrolled" and r.get("kpj")), None)

    registration = await eventually(enrolled, timeout_s=60)
    claim_id = f"CLM-{RUN}-flow"
    body = {
        "kpj": registration["kpj"],
        "programme": "JKK",
        "benefit_kind": "MEDICAL",
        "incident_date": "2026-06-01",
        "amount": 1_500_000,
        "claim_id": claim_id,
    }
    await expect(await stack.call("bpjs_simulator", "POST", "/control/claims", json=body), 202)
    recorded = await applied(stack, claim_id)
    # The claims service knows the worker (from enrollment's signed events) and their regency.
    assert recorded["regency_code"] == SAMOSIR, recorded

    # Every record each service published carries a signature of its own key.
    keyring = Keyring.load(stack.keys.keyring_file)
    own_topics = {
        topics.REGISTRY: "registry",
        topics.NOMINATION_REPLIES: "registry",
        topics.ALLOCATION: "allocation",
        topics.ENROLLMENT: "enrollment",
        topics.BPJS_REQUESTS: "enrollment",
        topics.BPJS_RESULTS: "bpjs_simulator",
        topics.CLAIMS: "claims",
    }
    signed_by = await signers_of(stack.bootstrap, list(own_topics), keyring)
    for topic, producer in own_topics.items():
        assert signed_by[topic] == {producer}, topic
    claims_topic = await signers_of(stack.bootstrap, [topics.BPJS_CLAIMS], keyring)
    assert "bpjs_simulator" in claims_topic[topics.BPJS_CLAIMS]


async def signers_of(bootstrap: str, names: list[str], keyring: Keyring) -> dict[str, set[str]]:
    """For each topic, the producers whose keys signed its records; a record of a service that
    does not verify fails the test (what the test sent as a foreign system may not)."""
    found: dict[str, set[str]] = {name: set() for name in names}
    unverified: list[str] = []
    for record in await read_records(bootstrap, names):
        try:
            key = keyring.verify(record.value, record.headers)
            check_producer(key, Envelope.from_bytes(record.value).producer)
        except SignatureRefused as refused:
            if record.topic not in topics.FOREIGN_TOPICS:
                unverified.append(f"{record.topic}@{record.offset}: {refused.code}")
            continue
        found[record.topic].add(key.producer)
    assert not unverified, unverified
    return found
