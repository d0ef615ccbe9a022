"""The audit's Kafka reader takes, with a keyring, only what the keyring proves (as the consumers)."""

from __future__ import annotations

from libs.audit.kafka_source import Record, select_inputs
from libs.events.signing import Keyring, Signer, keyring_json
from tests.unit.audit.test_kafka_selection import INTERESTED, enrolled, env

CLAIMS_KEY, ENROLLMENT_KEY = Signer.generate("claims.1"), Signer.generate("enrollment.1")
KEYRING = Keyring.parse(keyring_json([CLAIMS_KEY.trusted("claims"), ENROLLMENT_KEY.trusted("enrollment")]))


def signed(topic: str, offset: int, value: bytes, signer: Signer | None) -> Record:
    return Record(topic, 0, offset, value, tuple(signer.headers(value)) if signer else ())


def test_forged_own_events_and_inputs_are_left_out_with_a_keyring() -> None:
    own, forged_own = env("claims", "claim-1", 1, 0), env("claims", "claim-2", 1, 1)
    applied, forged_input = enrolled(2, "w1"), enrolled(3, "w2")
    records = [
        signed("lindung.claims.v1", 0, own.to_bytes(), CLAIMS_KEY),
        signed("lindung.claims.v1", 1, forged_own.to_bytes(), None),  # unsigned
        signed("lindung.enrollment.v1", 0, applied.to_bytes(), ENROLLMENT_KEY),
        signed(
            "lindung.enrollment.v1", 1, forged_input.to_bytes(), CLAIMS_KEY
        ),  # claims's key, as enrollment
    ]
    common = {"producer": "claims", "consumes": ("lindung.enrollment.v1",), "interested": INTERESTED}
    checked = select_inputs(records, parked=set(), keyring=KEYRING, **common)
    assert [a.envelope.event_id for a in checked.inputs] == [own.event_id, applied.event_id]
    assert checked.refused == 2
    # Without a keyring (development) every envelope is taken at its word.
    trusting = select_inputs(records, parked=set(), **common)
    assert len(trusting.inputs) == 4 and trusting.refused == 0
