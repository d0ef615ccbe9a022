"""An event is decoded once (issue 17): the envelope the kit builds from an event, or one the store
or the consumer decoded, gives that same event back to whoever decodes it next (a projector)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from libs.events import catalog
from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import Origin, recorded_as
from tests.support.old_contracts import WithdrawnV1
from tests.unit.messaging.test_consumer_in_memory import withdrawn

WITHDRAWN = withdrawn("w-1", "")


def recorded(stream_id: str) -> Recorded:
    """The withdrawal as the kit records it (built from the event, not decoded)."""
    [built] = recorded_as(
        [WITHDRAWN],
        stream_id=stream_id,
        after_version=0,
        origin=Origin.new(),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="registry",
    )
    return built


def test_the_envelope_the_kit_builds_decodes_to_its_own_event() -> None:
    built = recorded("w-1")
    assert decode(built.envelope) is built.event


def test_a_decoded_envelope_gives_the_same_event_and_a_copy_is_decoded_anew() -> None:
    built = recorded("w-1")
    copy = Envelope.from_bytes(built.envelope.canonical().encoded())
    first = decode(copy)
    assert first == built.event and first is not built.event
    assert decode(copy) is first


def test_what_is_remembered_goes_with_its_envelope() -> None:
    envelope = Envelope.from_bytes(recorded("w-2").envelope.canonical().encoded())
    gc.collect()
    before = len(catalog._decoded)
    decode(envelope)
    assert len(catalog._decoded) == before + 1
    del envelope
    gc.collect()
    assert len(catalog._decoded) == before


def test_an_envelope_built_from_an_old_version_decodes_to_the_current_contract() -> None:
    old = WithdrawnV1(
        worker_id="w-1", nomination_id="n-1", programme_code="P", regency_code="1217", reason="declined"
    )
    [built] = recorded_as(
        [old],
        stream_id="w-1",
        after_version=0,
        origin=Origin.new(),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="registry",
    )
    event = decode(built.envelope)
    assert type(event) is catalog.BY_TYPE["NominationWithdrawn"]
    assert event.schema_version > 1
